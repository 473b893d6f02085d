// The JIT's on-disk compile cache (compiler/jit/CompileCache.h): a second compile of elman is a
// hit (seen in the counters and CompiledKernel::fromCache, never in timing), a flipped byte or a
// truncated entry is detected and rebuilt, kernels loaded from the cache give the interpreter's
// results, and anything the machine code depends on changes the key. Every cache directory is a
// fresh one under $XDG_CACHE_HOME (the build tree under ctest), never the real home.
#include "compiler/jit/CompileCache.h"
#include "compiler/backend/Backend.h"
#include "compiler/jit/JitCompiler.h"
#include "compiler/model/BackendRegistry.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"
#include "compiler/passes/Pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <unistd.h>

namespace rnnc {
namespace {

namespace fs = std::filesystem;

const std::string kElman = RNNC_SOURCE_DIR "/examples/elman.rnn";

/// A new, empty directory for one test's cache, removed when the test ends.
class CacheDirectory {
public:
  CacheDirectory() {
    const char *base = std::getenv("XDG_CACHE_HOME");
    fs::path root = base && base[0] == '/' ? fs::path(base) : fs::temp_directory_path();
    const auto *test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = root /
            ("compile-cache-test-" + std::string(test->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~CacheDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }

private:
  fs::path path_;
};

std::unique_ptr<ir::Module> elmanModule(const std::map<std::string, long long> &dims,
                                        bool backward) {
  auto module = model::loadModule(kElman, dims);
  EXPECT_TRUE(module) << module.error().message;
  if (!module)
    return nullptr;
  passes::PipelineOptions pipeline;
  pipeline.backward = backward;
  auto report = passes::runPipeline(**module, pipeline);
  EXPECT_TRUE(report) << report.error().message;
  return module.take();
}

std::unique_ptr<jit::JitCompiler> compilerWithCache(const std::string &directory) {
  auto compiler = jit::JitCompiler::create({.cache = {directory}});
  EXPECT_TRUE(compiler) << compiler.error().message;
  return compiler ? compiler.take() : nullptr;
}

std::string readBytes(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << bytes;
}

TEST(CompileCacheTest, SecondCompileOfElmanIsAHit) {
  CacheDirectory directory;
  auto module = elmanModule({}, /*backward=*/true); // the default dims: the numbers printed matter
  ASSERT_TRUE(module);
  for (const char *name : {"forward", "backward"}) {
    const ir::Graph &graph = *module->findGraph(name);
    auto cold = compilerWithCache(directory.path());
    auto first = cold->compile(graph, ir::Precision::Float);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_FALSE((*first)->fromCache) << name;
    EXPECT_EQ(cold->cacheStatistics().misses, 1);
    EXPECT_EQ(cold->cacheStatistics().writes, 1);
    EXPECT_TRUE(fs::exists(jit::CompileCache({directory.path()})
                               .entryPath(cold->cacheKey(graph, ir::Precision::Float))));

    // The same compiler again (a second JITDylib with the same entry name) and a new one, as in
    // the next process.
    auto again = cold->compile(graph, ir::Precision::Float);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_TRUE((*again)->fromCache) << name;
    auto warm = compilerWithCache(directory.path());
    auto second = warm->compile(graph, ir::Precision::Float);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE((*second)->fromCache) << name;
    EXPECT_EQ(warm->cacheStatistics().hits, 1);
    EXPECT_EQ(warm->cacheStatistics().misses, 0);
    EXPECT_EQ(warm->cacheStatistics().writes, 0);
    std::printf("elman %s (K=65, H=128): cold %.1f ms, cached %.1f ms\n", name,
                (*first)->compileMilliseconds, (*second)->compileMilliseconds);
  }
}

TEST(CompileCacheTest, DisabledCacheWritesNothing) {
  CacheDirectory directory;
  auto module = elmanModule({{"H", 8}}, false);
  ASSERT_TRUE(module);
  auto compiler = compilerWithCache("");
  for (int i = 0; i < 2; ++i) {
    auto kernel = compiler->compile(*module->findGraph("forward"), ir::Precision::Float);
    ASSERT_TRUE(kernel) << kernel.error().message;
    EXPECT_FALSE((*kernel)->fromCache);
  }
  EXPECT_EQ(compiler->cacheStatistics().writes, 0);
  EXPECT_TRUE(fs::is_empty(directory.path()));
}

TEST(CompileCacheTest, SettingsFromTheEnvironment) {
  const char *savedXdg = std::getenv("XDG_CACHE_HOME");
  std::string xdg = savedXdg ? savedXdg : "";
  const char *savedHome = std::getenv("HOME");
  std::string home = savedHome ? savedHome : "";
  ::setenv("XDG_CACHE_HOME", "/somewhere/cache", 1);
  ::setenv("RNNC_CACHE", "on", 1);
  EXPECT_EQ(jit::CompileCacheSettings::fromEnvironment().directory, "/somewhere/cache/rnnc");
  ::setenv("XDG_CACHE_HOME", "relative/is/ignored", 1);
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(jit::CompileCacheSettings::fromEnvironment().directory, "/home/someone/.cache/rnnc");
  for (const char *off : {"off", "OFF", "0", "no", "false"}) {
    ::setenv("RNNC_CACHE", off, 1);
    EXPECT_EQ(jit::CompileCacheSettings::fromEnvironment().directory, "") << off;
  }
  ::unsetenv("RNNC_CACHE");
  if (savedHome)
    ::setenv("HOME", home.c_str(), 1);
  if (savedXdg)
    ::setenv("XDG_CACHE_HOME", xdg.c_str(), 1);
  else
    ::unsetenv("XDG_CACHE_HOME");
}

TEST(CompileCacheTest, EntryFormatDetectsEveryDamage) {
  jit::CacheKey key = jit::makeCacheKey({.graphText = "graph"});
  jit::CacheKey other = jit::makeCacheKey({.graphText = "graph2"});
  std::string object(1000, '\0');
  for (size_t i = 0; i < object.size(); ++i)
    object[i] = char(i * 7);
  std::string entry = jit::encodeCacheEntry(key, object);
  auto decoded = jit::decodeCacheEntry(key, entry);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, object);

  auto reason = [&](const std::string &bytes, const jit::CacheKey &with) {
    auto result = jit::decodeCacheEntry(with, bytes);
    return result ? std::string("accepted") : result.error().message;
  };
  EXPECT_EQ(reason(entry, other), "the entry belongs to another key");
  EXPECT_EQ(reason(entry.substr(0, 20), key), "truncated: 20 bytes, the header alone has 88");
  EXPECT_EQ(reason(entry.substr(0, entry.size() - 1), key),
            "truncated: 999 payload bytes, the header says 1000");
  EXPECT_EQ(reason(entry + "x", key), "trailing bytes: 1001 payload bytes, the header says 1000");
  std::string badMagic = entry;
  badMagic[0] = 'X';
  EXPECT_EQ(reason(badMagic, key), "not a compile-cache entry (bad magic)");
  std::string badVersion = entry;
  badVersion[8] = 99;
  EXPECT_EQ(reason(badVersion, key), "format version 99, expected 1");
  // Every single flipped bit of the payload or its checksum is caught.
  for (size_t position = 56; position < entry.size(); position += 37) {
    std::string flipped = entry;
    flipped[position] ^= 0x10;
    EXPECT_EQ(reason(flipped, key), "checksum mismatch") << "byte " << position;
  }
}

/// The outputs of `graph` on a small batch with mixed lengths, through `backend`.
TensorMap runElman(backend::Backend &backend, const ir::Graph &graph, const TensorMap &params) {
  model::RandomDataOptions options;
  options.batch = 3;
  options.steps = 6;
  options.variableLengths = true;
  options.seed = 5;
  TensorMap data = model::randomData(graph, options);
  auto lengths = model::extractLengths(graph, data);
  EXPECT_TRUE(lengths);
  TensorMap inputs = model::graphData(graph, data);
  ir::Batch batch{&params, &inputs, *lengths, {}, {}};
  ir::RunOptions run;
  run.precision = ir::Precision::Float;
  auto outputs = backend.run(graph, batch, run);
  EXPECT_TRUE(outputs) << outputs.error().message;
  return outputs ? outputs.take() : TensorMap{};
}

void expectClose(const TensorMap &actual, const TensorMap &expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto &[name, tensor] : expected) {
    ASSERT_TRUE(actual.count(name)) << name;
    Tensor a = actual.at(name).convert(DType::F64), e = tensor.convert(DType::F64);
    ASSERT_EQ(a.shape(), e.shape()) << name;
    for (int64_t i = 0; i < e.numElements(); ++i)
      ASSERT_NEAR(a.values<double>()[i], e.values<double>()[i],
                  1e-4 * (1 + std::fabs(e.values<double>()[i])))
          << name << " [" << i << "]";
  }
}

/// Damages the cached entry of elman's backward graph with `damage`, then checks that the next
/// compile notices, rebuilds the entry and runs a kernel that agrees with the interpreter.
void checkRebuiltAfter(const std::function<void(std::string &)> &damage) {
  CacheDirectory directory;
  auto module = elmanModule({{"H", 16}}, /*backward=*/true);
  ASSERT_TRUE(module);
  const ir::Graph &graph = *module->findGraph("backward");
  auto params = model::initializeParameters(graph, 3, DType::F32);
  ASSERT_TRUE(params);

  auto compiler = compilerWithCache(directory.path());
  ASSERT_TRUE(compiler->compile(graph, ir::Precision::Float));
  std::string path = jit::CompileCache({directory.path()})
                         .entryPath(compiler->cacheKey(graph, ir::Precision::Float));
  std::string good = readBytes(path);
  ASSERT_GT(good.size(), 1000u);
  std::string bad = good;
  damage(bad);
  writeBytes(path, bad);

  auto rebuilding = compilerWithCache(directory.path());
  auto kernel = rebuilding->compile(graph, ir::Precision::Float);
  ASSERT_TRUE(kernel) << kernel.error().message;
  EXPECT_FALSE((*kernel)->fromCache);
  EXPECT_EQ(rebuilding->cacheStatistics().corruptEntries, 1);
  EXPECT_EQ(rebuilding->cacheStatistics().writes, 1);
  EXPECT_EQ(readBytes(path), good) << "the entry was not rebuilt";

  // Through the jit backend, which takes its cache from the environment: first the damaged entry
  // again (rebuilt while running), then the rebuilt entry (a hit); both agree with the
  // interpreter.
  writeBytes(path, bad);
  std::string savedXdg = std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
  fs::path xdg = fs::path(directory.path()) / "xdg";
  fs::create_directories(xdg / "rnnc");
  fs::copy_file(path, xdg / "rnnc" / fs::path(path).filename());
  ::setenv("XDG_CACHE_HOME", xdg.c_str(), 1);
  auto interpreter = model::createBackend("interp");
  ASSERT_TRUE(interpreter);
  TensorMap expected = runElman(**interpreter, graph, *params);
  for (int run = 0; run < 2; ++run) {
    auto jitBackend = model::createBackend("jit");
    ASSERT_TRUE(jitBackend) << jitBackend.error().message;
    expectClose(runElman(**jitBackend, graph, *params), expected);
    EXPECT_EQ(readBytes((xdg / "rnnc" / fs::path(path).filename()).string()), good) << run;
  }
  if (savedXdg.empty())
    ::unsetenv("XDG_CACHE_HOME");
  else
    ::setenv("XDG_CACHE_HOME", savedXdg.c_str(), 1);
}

TEST(CompileCacheTest, FlippedByteIsDetectedAndRebuilt) {
  checkRebuiltAfter([](std::string &bytes) { bytes[bytes.size() / 2] ^= 0x01; });
}

TEST(CompileCacheTest, TruncatedEntryIsDetectedAndRebuilt) {
  checkRebuiltAfter([](std::string &bytes) { bytes.resize(bytes.size() / 3); });
}

TEST(CompileCacheTest, KeysDifferForEverythingTheCodeDependsOn) {
  auto compiler = compilerWithCache("");
  auto small = elmanModule({{"H", 8}}, true), large = elmanModule({{"H", 9}}, true),
       truncated = elmanModule({{"H", 8}}, false);
  ASSERT_TRUE(small && large && truncated);
  passes::PipelineOptions pipeline;
  pipeline.backward = true;
  pipeline.autodiff.truncate = 2;
  ASSERT_TRUE(passes::runPipeline(*truncated, pipeline));
  const ir::Graph &forward = *small->findGraph("forward");
  const ir::Graph &backward = *small->findGraph("backward");
  jit::CacheKey base = compiler->cacheKey(forward, ir::Precision::Float);

  // The same graph loaded again has the same key.
  EXPECT_EQ(compiler->cacheKey(*elmanModule({{"H", 8}}, false)->findGraph("forward"),
                               ir::Precision::Float),
            base);
  EXPECT_NE(compiler->cacheKey(*large->findGraph("forward"), ir::Precision::Float), base);
  EXPECT_NE(compiler->cacheKey(forward, ir::Precision::Double), base);
  EXPECT_NE(compiler->cacheKey(backward, ir::Precision::Float), base);
  EXPECT_NE(compiler->cacheKey(*truncated->findGraph("backward"), ir::Precision::Float),
            compiler->cacheKey(backward, ir::Precision::Float));

  // Target fields, one at a time.
  jit::CacheKeyInputs inputs{.graphText = "g",
                             .precision = "f32",
                             .triple = "x86_64-pc-linux-gnu",
                             .cpu = "haswell",
                             .features = "+avx2,+fma",
                             .entryName = "rnnc_forward"};
  jit::CacheKey reference = jit::makeCacheKey(inputs);
  EXPECT_EQ(jit::makeCacheKey(inputs), reference);
  for (std::string jit::CacheKeyInputs::*field :
       {&jit::CacheKeyInputs::graphText, &jit::CacheKeyInputs::precision,
        &jit::CacheKeyInputs::triple, &jit::CacheKeyInputs::cpu, &jit::CacheKeyInputs::features,
        &jit::CacheKeyInputs::entryName}) {
    jit::CacheKeyInputs changed = inputs;
    changed.*field += "x";
    EXPECT_NE(jit::makeCacheKey(changed), reference);
  }
  // Fields are length-prefixed: moving a character from one field to the next changes the key.
  jit::CacheKeyInputs shifted = inputs;
  shifted.cpu = "haswell+";
  shifted.features = "avx2,+fma";
  EXPECT_NE(jit::makeCacheKey(shifted), reference);
}

} // namespace
} // namespace rnnc
