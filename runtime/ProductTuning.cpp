// ProductTuner (ProductTuning.h).
#include "runtime/ProductTuning.h"

#include "runtime/Files.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace rnnc {

namespace {

bool sameBlocking(const ProductBlocking &a, const ProductBlocking &b) {
  return a.tile.rows == b.tile.rows && a.tile.panels == b.tile.panels &&
         a.reduction == b.reduction && a.rowBlockTiles == b.rowBlockTiles;
}

constexpr const char *kWisdomHeader = "rnnc-product-wisdom 1";

/// The entries of the wisdom file at `path`; empty when it is absent or malformed.
std::map<ProductShapeKey, ProductBlocking> readWisdom(const std::string &path) {
  Expected<std::string> contents = readWholeFile(path);
  if (!contents)
    return {};
  std::istringstream in(*contents);
  std::string line;
  if (!std::getline(in, line) || line != kWisdomHeader)
    return {};
  std::map<ProductShapeKey, ProductBlocking> entries;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    ProductShapeKey key{};
    ProductBlocking blocking;
    std::string rest;
    if (!(fields >> key.isa >> key.elementBytes >> key.rows >> key.m >> key.k >>
          key.transposedX >> key.threads >> blocking.tile.rows >> blocking.tile.panels >>
          blocking.reduction >> blocking.rowBlockTiles) ||
        (fields >> rest))
      return {};
    entries[key] = blocking;
  }
  return entries;
}

} // namespace

void ProductTuner::useWisdomFile(const std::string &path) {
  std::map<ProductShapeKey, ProductBlocking> entries = readWisdom(path);
  std::lock_guard<std::mutex> lock(mutex_);
  if (path == wisdomPath_)
    return;
  wisdomPath_ = path;
  for (auto &[key, blocking] : entries)
    wisdom_.try_emplace(key, blocking); // what this process tuned stays
}

void ProductTuner::saveWisdom() {
  std::string path;
  std::map<ProductShapeKey, ProductBlocking> ours;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    path = wisdomPath_;
    ours = wisdom_;
  }
  if (path.empty())
    return;
  std::map<ProductShapeKey, ProductBlocking> merged = readWisdom(path);
  for (auto &[key, blocking] : ours)
    merged[key] = blocking;
  std::ostringstream out;
  out << kWisdomHeader << "\n";
  for (const auto &[key, blocking] : merged)
    out << key.isa << ' ' << key.elementBytes << ' ' << key.rows << ' ' << key.m << ' ' << key.k
        << ' ' << key.transposedX << ' ' << key.threads << ' ' << blocking.tile.rows << ' '
        << blocking.tile.panels << ' ' << blocking.reduction << ' ' << blocking.rowBlockTiles
        << "\n";
  // The wisdom is an optimisation: a file that cannot be written is left as it was.
  (void)writeFileAtomically(path, out.str());
}

std::vector<ProductBlocking> ProductTuner::candidates(const ProductBlocking &rules, int64_t k) {
  std::vector<ProductBlocking> result{rules};
  auto add = [&](ProductBlocking blocking) {
    blocking.reduction = std::clamp<int64_t>(blocking.reduction, 1, std::max<int64_t>(k, 1));
    blocking.rowBlockTiles = std::max<int64_t>(blocking.rowBlockTiles, 1);
    for (const ProductBlocking &existing : result)
      if (sameBlocking(existing, blocking))
        return;
    result.push_back(blocking);
  };
  ProductBlocking variant = rules;
  variant.rowBlockTiles = rules.rowBlockTiles * 4;
  add(variant);
  variant = rules;
  variant.rowBlockTiles = rules.rowBlockTiles / 4;
  add(variant);
  variant = rules;
  variant.reduction = panelFittingReduction(rules, k); // panels in L1
  add(variant);
  variant = rules;
  variant.reduction = (k + 1) / 2; // two blocks
  add(variant);
  return result;
}

ProductTuner::Choice ProductTuner::choose(const ProductShapeKey &key,
                                          const ProductBlocking &rules) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [found, inserted] = shapes_.try_emplace(key);
  Shape &shape = found->second;
  if (inserted) {
    shape.candidates = candidates(rules, key.k);
    shape.fastest.assign(shape.candidates.size(), 0);
    shape.trials.assign(shape.candidates.size(), 0);
    shape.dropped.assign(shape.candidates.size(), false);
    if (auto known = wisdom_.find(key); known != wisdom_.end())
      for (size_t candidate = 0; candidate < shape.candidates.size(); ++candidate)
        if (sameBlocking(shape.candidates[candidate], known->second))
          shape.chosen = static_cast<int>(candidate);
  }
  if (shape.chosen >= 0)
    return {shape.candidates[static_cast<size_t>(shape.chosen)], -1};
  int count = static_cast<int>(shape.candidates.size()), candidate = shape.next;
  while (shape.dropped[static_cast<size_t>(candidate)])
    candidate = (candidate + 1) % count;
  shape.next = (candidate + 1) % count;
  return {shape.candidates[static_cast<size_t>(candidate)], candidate};
}

void ProductTuner::record(const ProductShapeKey &key, int candidate, double seconds) {
  if (recordTrial(key, candidate, seconds))
    saveWisdom();
}

bool ProductTuner::recordTrial(const ProductShapeKey &key, int candidate, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = shapes_.find(key);
  if (found == shapes_.end() || candidate < 0 || found->second.chosen >= 0)
    return false;
  Shape &shape = found->second;
  size_t index = static_cast<size_t>(candidate), count = shape.candidates.size();
  if (shape.trials[index] == 0 || seconds < shape.fastest[index])
    shape.fastest[index] = seconds;
  ++shape.trials[index];
  // Once every candidate has had a trial, drop those far from the fastest (never the fastest,
  // whose time is the best).
  if (!shape.firstRoundDone &&
      std::find(shape.trials.begin(), shape.trials.end(), 0) == shape.trials.end()) {
    shape.firstRoundDone = true;
    double best = *std::min_element(shape.fastest.begin(), shape.fastest.end());
    for (size_t other = 0; other < count; ++other)
      shape.dropped[other] = shape.fastest[other] > best * kCloseEnough;
  }
  int chosen = -1;
  for (size_t other = 0; other < count; ++other) {
    if (shape.dropped[other])
      continue;
    if (shape.trials[other] < kTrialsPerCandidate)
      return false;
    if (chosen < 0 || shape.fastest[other] < shape.fastest[static_cast<size_t>(chosen)])
      chosen = static_cast<int>(other);
  }
  shape.chosen = chosen;
  wisdom_[key] = shape.candidates[static_cast<size_t>(chosen)];
  return !wisdomPath_.empty();
}

const ProductBlocking *ProductTuner::tuned(const ProductShapeKey &key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = shapes_.find(key);
  if (found == shapes_.end() || found->second.chosen < 0)
    return nullptr;
  return &found->second.candidates[static_cast<size_t>(found->second.chosen)];
}

int64_t ProductTuner::shapesOnTrial() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::count_if(shapes_.begin(), shapes_.end(),
                       [](const auto &entry) { return entry.second.chosen < 0; });
}

ProductTuner *ProductTuner::process() {
  static ProductTuner *tuner = [] {
    const char *setting = std::getenv("RNNC_PRODUCT_TUNING");
    return setting && std::strcmp(setting, "0") == 0 ? nullptr : new ProductTuner;
  }();
  return tuner;
}

} // namespace rnnc
