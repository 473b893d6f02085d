#include "compiler/model/Dataset.h"

#include "compiler/model/ModelData.h"
#include "compiler/model/TrainingHistory.h"
#include "runtime/Safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <numeric>

namespace rnnc::model {

namespace {

bool hasSafetensorsExtension(const std::filesystem::path &path) {
  return path.extension() == ".safetensors";
}

/// The shard files of a data set: the file itself, or the .safetensors files directly in a
/// directory, sorted.
std::vector<std::string> shardPaths(const std::string &path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error))
    return {path};
  std::vector<std::string> paths;
  for (const auto &entry : std::filesystem::directory_iterator(path, error))
    if (entry.is_regular_file(error) && hasSafetensorsExtension(entry.path()))
      paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

/// The expected shape of a slot's tensor as text: "[N, T, 2]", "[N]".
std::string expectedShape(const ir::Type &type) {
  std::string text = type.isSequence() ? "[N, T" : "[N";
  for (int64_t dim : type.shape)
    text += ", " + std::to_string(dim);
  return text + "]";
}

} // namespace

bool isDatasetPath(const std::string &path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error))
    return hasSafetensorsExtension(path);
  for (const auto &entry : std::filesystem::directory_iterator(path, error))
    if (hasSafetensorsExtension(entry.path()))
      return true;
  return false;
}

namespace {

/// [A, B, rest...] -> [B, A, rest...].
Tensor swapLeadingAxes(const Tensor &tensor) {
  std::vector<int64_t> shape = tensor.shape();
  std::swap(shape[0], shape[1]);
  Tensor swapped(tensor.dtype(), shape);
  size_t row = tensor.byteSize() / size_t(std::max<int64_t>(1, shape[0] * shape[1]));
  for (int64_t a = 0; a < shape[1]; ++a)
    for (int64_t b = 0; b < shape[0]; ++b)
      std::memcpy(swapped.bytes() + size_t(b * shape[1] + a) * row,
                  tensor.bytes() + size_t(a * shape[0] + b) * row, row);
  return swapped;
}

} // namespace

TensorMap examplesFirst(const ir::Graph &graph, TensorMap batch) {
  for (ir::OpKind kind : {ir::OpKind::Input, ir::OpKind::Target})
    for (const ir::Op *op : graph.opsOfKind(kind))
      if (auto tensor = batch.find(op->nameAttr());
          tensor != batch.end() && op->result()->type().isSequence() && tensor->second.rank() >= 2)
        tensor->second = swapLeadingAxes(tensor->second);
  return batch;
}

std::vector<std::vector<size_t>> bucketedBatches(std::span<const int64_t> lengths, int64_t batch,
                                                 Rng &rng) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t(0));
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[rng.nextU64() % i]);
  std::vector<std::vector<size_t>> batches;
  size_t pool = size_t(batch * kBucketBatches);
  for (size_t first = 0; first < order.size(); first += pool) {
    auto begin = order.begin() + std::ptrdiff_t(first);
    auto end = order.begin() + std::ptrdiff_t(std::min(order.size(), first + pool));
    std::stable_sort(begin, end, [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
    for (auto it = begin; it < end; it += std::min<std::ptrdiff_t>(batch, end - it))
      batches.emplace_back(it, it + std::min<std::ptrdiff_t>(batch, end - it));
  }
  for (size_t i = batches.size(); i > 1; --i)
    std::swap(batches[i - 1], batches[rng.nextU64() % i]);
  return batches;
}

Expected<Dataset> Dataset::load(const std::string &path, const ir::Graph &forward) {
  Dataset dataset;
  dataset.axes_ = timeAxes(forward);
  for (ir::OpKind kind : {ir::OpKind::Input, ir::OpKind::Target})
    for (const ir::Op *op : forward.opsOfKind(kind)) {
      Slot slot{op->nameAttr(), op->result()->type(), kind == ir::OpKind::Input, 1};
      for (int64_t dim : slot.type.shape)
        slot.rowElements *= dim;
      dataset.slots_.push_back(slot);
    }
  std::vector<ir::Op *> targets = forward.opsOfKind(ir::OpKind::Target);
  if (!targets.empty()) {
    const ir::Type &target = targets.front()->result()->type();
    dataset.target_ = targets.front()->nameAttr();
    dataset.itemsAxis_ = target.axis;
    dataset.metric_ = target.isToken() ? "accuracy" : "mse";
    dataset.predictionWidth_ = target.isToken()
                                   ? target.vocab
                                   : std::accumulate(target.shape.begin(), target.shape.end(),
                                                     int64_t(1), std::multiplies<int64_t>());
  }
  dataset.shards_ = std::make_shared<std::vector<Shard>>();
  std::vector<std::string> paths = shardPaths(path);
  if (paths.empty())
    return Error::user("'" + path + "' holds no .safetensors files");
  for (const std::string &shard : paths)
    if (Status added = dataset.addShard(shard, forward); !added)
      return added.takeError();
  if (dataset.examples_.empty())
    return Error::user("'" + path + "' holds no examples");
  return dataset;
}

Status Dataset::checkSlot(const Slot &slot, const Tensor &tensor, Shard &shard,
                          std::optional<std::pair<std::string, int64_t>> &examples) const {
  std::string tensorName = shard.path + ": tensor '" + slot.name + "'";
  DType dtype = tensor.dtype();
  if (slot.type.isToken() ? dtype != DType::I32 : !isFloatingPoint(dtype))
    return Error::user(tensorName + " has dtype " + std::string(dtypeName(dtype)) + ", expected " +
                       (slot.type.isToken() ? "I32 (token ids)" : "F32 or F64"));
  size_t leading = slot.type.isSequence() ? 2 : 1;
  const std::vector<int64_t> &shape = tensor.shape();
  if (shape.size() != leading + slot.type.shape.size() ||
      !std::equal(slot.type.shape.begin(), slot.type.shape.end(), shape.begin() + leading))
    return Error::user(tensorName + " has shape " + formatShape(shape) + ", expected " +
                       expectedShape(slot.type));
  if (!examples)
    examples.emplace(slot.name, shape[0]);
  else if (shape[0] != examples->second)
    return Error::user(tensorName + " has " + std::to_string(shape[0]) + " examples, tensor '" +
                       examples->first + "' has " + std::to_string(examples->second));
  if (slot.type.isSequence()) {
    if (shape[1] == 0)
      return Error::user(tensorName + " has no steps (T = 0)");
    auto [steps, inserted] = shard.steps.emplace(slot.type.axis, shape[1]);
    if (!inserted && steps->second != shape[1])
      return Error::user(tensorName + " has " + std::to_string(shape[1]) + " steps over '" +
                         slot.type.axis + "', another tensor over that axis has " +
                         std::to_string(steps->second));
  }
  return Status::ok();
}

Status Dataset::checkValues(const Slot &slot, const Shard &shard) const {
  const Tensor &tensor = shard.tensors.at(slot.name);
  int64_t examples = tensor.shape()[0];
  int64_t steps = slot.type.isSequence() ? tensor.shape()[1] : 1;
  for (int64_t example = 0; example < examples; ++example) {
    int64_t length = slot.type.isSequence() ? shard.lengths.at(slot.type.axis)[size_t(example)] : 1;
    for (int64_t step = 0; step < length; ++step) {
      int64_t first = (example * steps + step) * slot.rowElements;
      auto where = [&] {
        return " at example " + std::to_string(example) +
               (slot.type.isSequence() ? ", step " + std::to_string(step) : std::string());
      };
      if (slot.type.isToken()) {
        int32_t id = tensor.values<int32_t>()[size_t(first)];
        if (id < 0 || id >= slot.type.vocab)
          return Error::user(shard.path + ": tensor '" + slot.name + "': token id " +
                             std::to_string(id) + where() + " is out of range [0, " +
                             std::to_string(slot.type.vocab) + ")");
        continue;
      }
      auto values = tensor.values<float>().subspan(size_t(first), size_t(slot.rowElements));
      if (auto bad = std::find_if(values.begin(), values.end(),
                                  [](float value) { return !std::isfinite(value); });
          bad != values.end())
        return Error::user(shard.path + ": tensor '" + slot.name + "': value " +
                           formatNumber("%g", double(*bad)) + where() + " is not finite");
    }
  }
  return Status::ok();
}

Status Dataset::addShard(const std::string &path, const ir::Graph &forward) {
  auto tensors = readSafetensors(path);
  if (!tensors)
    return tensors.takeError();
  if (Status names = checkDataNames(forward, *tensors, path); !names)
    return names;
  Shard shard;
  shard.path = path;
  std::optional<std::pair<std::string, int64_t>> examples;
  for (const Slot &slot : slots_) {
    auto found = tensors->find(slot.name);
    if (found == tensors->end())
      return Error::user(
          path + ": missing tensor '" + slot.name + "': the " +
          (slot.isInput ? "input" : "target") + ", " +
          (slot.type.isToken() ? "token<" + std::to_string(slot.type.vocab) + ">"
                               : "reals " + ir::shapeString(slot.type.shape)) +
          (slot.type.isSequence() ? " over '" + slot.type.axis + "'" : std::string()) + ", as " +
          (slot.type.isToken() ? "I32 " : "F32 ") + expectedShape(slot.type));
    if (Status checked = checkSlot(slot, found->second, shard, examples); !checked)
      return checked;
    Tensor &tensor = found->second;
    shard.tensors.emplace(slot.name, tensor.dtype() == DType::F64 ? tensor.convert(DType::F32)
                                                                  : std::move(tensor));
  }
  int64_t count = examples ? examples->second : 0;
  auto lengths = extractLengths(forward, *tensors);
  if (!lengths)
    return Error::user(path + ": " + lengths.error().message);
  for (const std::string &axis : axes_) {
    std::string name = lengthsName(axes_, axis);
    int64_t steps = shard.steps.at(axis);
    auto given = lengths->find(axis);
    if (given == lengths->end()) {
      shard.lengths[axis].assign(size_t(count), steps);
      continue;
    }
    if (int64_t(given->second.size()) != count)
      return Error::user(path + ": tensor '" + name + "' has " +
                         std::to_string(given->second.size()) +
                         " lengths, expected one per "
                         "example (" +
                         std::to_string(count) + ")");
    for (size_t example = 0; example < given->second.size(); ++example)
      if (given->second[example] < 1 || given->second[example] > steps)
        return Error::user(path + ": tensor '" + name + "': example " + std::to_string(example) +
                           " has length " + std::to_string(given->second[example]) +
                           ", outside 1.." + std::to_string(steps));
    shard.lengths[axis] = std::move(given->second);
  }
  for (const Slot &slot : slots_)
    if (Status values = checkValues(slot, shard); !values)
      return values;
  size_t index = shards_->size();
  shards_->push_back(std::move(shard));
  for (int64_t row = 0; row < count; ++row)
    examples_.push_back({index, row});
  return Status::ok();
}

int64_t Dataset::totalLength(size_t index) const {
  const Example &example = examples_[index];
  int64_t total = 0;
  for (const auto &[axis, lengths] : (*shards_)[example.shard].lengths)
    total += lengths[size_t(example.row)];
  return std::max<int64_t>(total, 1);
}

std::pair<Dataset, Dataset> Dataset::split(int64_t heldOut, Rng &rng) const {
  std::vector<size_t> order(examples_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[rng.nextU64() % i]);
  std::vector<bool> isHeldOut(examples_.size());
  for (int64_t i = 0; i < heldOut; ++i)
    isHeldOut[order[size_t(i)]] = true;
  Dataset kept = *this, held = *this;
  kept.examples_.clear();
  held.examples_.clear();
  for (size_t i = 0; i < examples_.size(); ++i)
    (isHeldOut[i] ? held : kept).examples_.push_back(examples_[i]);
  return {std::move(kept), std::move(held)};
}

std::vector<std::vector<size_t>> Dataset::epochBatches(int64_t batch, Rng &rng) const {
  std::vector<int64_t> lengths(examples_.size());
  for (size_t i = 0; i < lengths.size(); ++i)
    lengths[i] = totalLength(i);
  return bucketedBatches(lengths, batch, rng);
}

std::vector<std::vector<size_t>> Dataset::sortedBatches(int64_t batch) const {
  std::vector<size_t> order(examples_.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return totalLength(a) < totalLength(b); });
  std::vector<std::vector<size_t>> batches;
  for (size_t first = 0; first < order.size(); first += size_t(batch))
    batches.emplace_back(order.begin() + std::ptrdiff_t(first),
                         order.begin() +
                             std::ptrdiff_t(std::min(order.size(), first + size_t(batch))));
  return batches;
}

TrainingBatch Dataset::pack(std::span<const size_t> examples) const {
  TrainingBatch batch;
  int64_t size = int64_t(examples.size());
  for (const std::string &axis : axes_) {
    std::vector<int64_t> &lengths = batch.lengths[axis];
    for (size_t index : examples) {
      const Example &example = examples_[index];
      lengths.push_back((*shards_)[example.shard].lengths.at(axis)[size_t(example.row)]);
      batch.steps += lengths.back();
    }
  }
  for (const Slot &slot : slots_) {
    int64_t steps = 1;
    if (slot.type.isSequence()) {
      const std::vector<int64_t> &lengths = batch.lengths.at(slot.type.axis);
      steps = *std::max_element(lengths.begin(), lengths.end());
    }
    std::vector<int64_t> shape =
        slot.type.isSequence() ? std::vector<int64_t>{steps, size} : std::vector<int64_t>{size};
    shape.insert(shape.end(), slot.type.shape.begin(), slot.type.shape.end());
    Tensor tensor(slot.type.isToken() ? DType::I32 : DType::F32, shape);
    size_t rowBytes = size_t(slot.rowElements) * dtypeSize(tensor.dtype());
    for (int64_t b = 0; b < size; ++b) {
      const Example &example = examples_[examples[size_t(b)]];
      const Shard &shard = (*shards_)[example.shard];
      const Tensor &source = shard.tensors.at(slot.name);
      if (!slot.type.isSequence()) {
        std::memcpy(tensor.bytes() + size_t(b) * rowBytes,
                    source.bytes() + size_t(example.row) * rowBytes, rowBytes);
        continue;
      }
      int64_t sourceSteps = source.shape()[1];
      int64_t length = batch.lengths.at(slot.type.axis)[size_t(b)];
      for (int64_t t = 0; t < length; ++t)
        std::memcpy(tensor.bytes() + size_t(t * size + b) * rowBytes,
                    source.bytes() + size_t(example.row * sourceSteps + t) * rowBytes, rowBytes);
    }
    batch.data.emplace(slot.name, std::move(tensor));
  }
  batch.items = itemsAxis_.empty()
                    ? size
                    : std::accumulate(batch.lengths.at(itemsAxis_).begin(),
                                      batch.lengths.at(itemsAxis_).end(), int64_t(0));
  if (batch.steps == 0)
    batch.steps = size;
  return batch;
}

void Dataset::addToMetric(const TrainingBatch &batch, const Tensor &prediction, double &sum,
                          int64_t &count) const {
  const Tensor &target = batch.data.at(target_);
  auto predicted = prediction.values<float>();
  bool sequence = !itemsAxis_.empty();
  int64_t size = sequence ? target.shape()[1] : target.shape()[0];
  // A row is one step of one example: a token id and its class scores, or a real vector and its
  // prediction.
  int64_t width = predictionWidth_;
  for (int64_t b = 0; b < size; ++b) {
    int64_t steps = sequence ? batch.lengths.at(itemsAxis_)[size_t(b)] : 1;
    for (int64_t t = 0; t < steps; ++t) {
      int64_t row = sequence ? t * size + b : b;
      auto values = predicted.subspan(size_t(row * width), size_t(width));
      if (metric_ == "accuracy") {
        int64_t argmax = std::max_element(values.begin(), values.end()) - values.begin();
        sum += argmax == target.values<int32_t>()[size_t(row)];
        ++count;
        continue;
      }
      auto truth = target.values<float>().subspan(size_t(row * width), size_t(width));
      for (int64_t d = 0; d < width; ++d)
        sum += (double(values[size_t(d)]) - truth[size_t(d)]) *
               (double(values[size_t(d)]) - truth[size_t(d)]);
      count += width;
    }
  }
}

} // namespace rnnc::model
