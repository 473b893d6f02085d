// Shared by the unit tests that run every example model: the example files, and loading one with
// every dim capped so that the tests stay fast.
#pragma once

#include "compiler/model/ModelLoading.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rnnc::test_support {

/// Every examples/*.rnn, sorted by path.
inline std::vector<std::string> exampleModels() {
  std::vector<std::string> paths;
  for (const auto &entry : std::filesystem::directory_iterator(RNNC_SOURCE_DIR "/examples"))
    if (entry.path().extension() == ".rnn")
      paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

/// The path of examples/<name>.rnn.
inline std::string examplePath(const std::string &name) {
  return RNNC_SOURCE_DIR "/examples/" + name + ".rnn";
}

/// The model at `path` with every dim capped at `maxDim`; a load failure fails the test.
inline std::unique_ptr<ir::Module> loadSmallModel(const std::string &path, int64_t maxDim) {
  auto module = model::loadModule(path, {});
  EXPECT_TRUE(module) << module.error().message;
  if (!module)
    return nullptr;
  std::map<std::string, long long> dims;
  for (const auto &[name, value] : (*module)->dims())
    dims[name] = std::min<int64_t>(value, maxDim);
  auto small = model::loadModule(path, dims);
  EXPECT_TRUE(small) << small.error().message;
  return small ? small.take() : nullptr;
}

} // namespace rnnc::test_support
