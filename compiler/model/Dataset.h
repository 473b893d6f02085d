// A data set of any model, read from safetensors files (docs/training.md, "Data sets"): `rnnc
// train MODEL --data DATA.safetensors`. A file holds every input and target of the model by name,
// examples first and padded ([N, T, ...] for a sequence, [N, ...] for a static value; tokens I32,
// reals F32 or F64), with the lengths of each example per time axis (ModelData.h's names:
// `lengths`, or `lengths.<axis>` for several axes; absent, every example is T steps long); a
// directory is the shards *.safetensors directly in it, in sorted order, each with its own N
// and T.
//
// Loading checks every file against the model and names the file, the tensor and, for a value,
// the example: a missing or unknown tensor, a wrong dtype or shape, a token id out of range, a
// length outside 1..T. Past each example's length the file may hold anything: it is never read.
// A loaded set keeps its shards whole and addresses examples as (shard, row), so the held-out
// split, the epochs' shuffles and the batches are lists of examples into shared, immutable data.
//
// Batches come out in the layout of every model's data (ModelData.h): time-major [T, B, ...]
// padded with zeros past each example's length, T the batch's longest example.
#pragma once

#include "compiler/model/Task.h"
#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Init.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rnnc::model {

/// True when `path` names a data set rather than text: a file ending in .safetensors, or a
/// directory with such a file directly in it.
bool isDatasetPath(const std::string &path);

/// `batch` (ModelData.h's layout: sequences time-major [T, B, ...]) in a data set's layout:
/// every sequence tensor of `graph` examples first [B, T, ...]. Other tensors are unchanged.
TensorMap examplesFirst(const ir::Graph &graph, TensorMap batch);

/// The batches of one epoch over examples of the given `lengths`: a shuffle of all the examples
/// from `rng`, then pools of `kBucketBatches` batches each sorted by length and cut into batches
/// of `batch` (so a batch holds examples of similar lengths and pads little), then the batches
/// in shuffled order. Every example is in exactly one batch; only the last batch of the last pool
/// may be smaller.
constexpr int64_t kBucketBatches = 32;
std::vector<std::vector<size_t>> bucketedBatches(std::span<const int64_t> lengths, int64_t batch,
                                                 Rng &rng);

class Dataset {
public:
  /// Reads and checks the file or directory at `path` against `forward`, a model's forward graph.
  static Expected<Dataset> load(const std::string &path, const ir::Graph &forward);

  int64_t size() const { return int64_t(examples_.size()); }
  /// The shard files read, in order.
  size_t shardCount() const { return shards_->size(); }

  /// Splits off `heldOut` examples chosen by `rng` (the rest keep their order).
  std::pair<Dataset, Dataset> split(int64_t heldOut, Rng &rng) const;

  /// The batches of one epoch (bucketedBatches over this set's lengths).
  std::vector<std::vector<size_t>> epochBatches(int64_t batch, Rng &rng) const;
  /// The examples sorted by length and cut into batches of `batch`: for evaluation, whose order
  /// does not matter, with the least padding.
  std::vector<std::vector<size_t>> sortedBatches(int64_t batch) const;

  /// The batch of `examples` (indices into this set) under the model's names. The loss is
  /// averaged over its items: the target's steps, or its examples for a static target.
  TrainingBatch pack(std::span<const size_t> examples) const;

  /// The metric of the held-out examples, measured on the model's first target: "accuracy" for
  /// tokens, "mse" for reals, empty for a model without targets.
  const std::string &metric() const { return metric_; }
  /// Adds the metric's sum and count over `batch` given the model's `prediction` of the target
  /// (ModelData.h's predictionOutput, in the batch's layout): for accuracy the steps (or
  /// examples) where the argmax of the class scores is the target id, for mse the squared errors
  /// of the elements, both within each example's length.
  void addToMetric(const TrainingBatch &batch, const Tensor &prediction, double &sum,
                   int64_t &count) const;

private:
  /// An input or target of the model.
  struct Slot {
    std::string name;
    ir::Type type;
    bool isInput = false;
    int64_t rowElements = 1; ///< Elements of one step (a sequence) or one example (static).
  };
  struct Shard {
    std::string path;
    TensorMap tensors;                                   ///< By slot name; reals as F32.
    std::map<std::string, int64_t> steps;                ///< T per time axis.
    std::map<std::string, std::vector<int64_t>> lengths; ///< Per axis, per example.
  };
  struct Example {
    size_t shard = 0;
    int64_t row = 0;
  };
  Dataset() = default;
  /// Reads, checks and adds the shard at `path`.
  Status addShard(const std::string &path, const ir::Graph &forward);
  /// Checks the dtype and shape of `slot`'s tensor in `shard`, its examples against the first
  /// tensor's (`examples`: its name and N), and records its steps.
  Status checkSlot(const Slot &slot, const Tensor &tensor, Shard &shard,
                   std::optional<std::pair<std::string, int64_t>> &examples) const;
  /// Checks `slot`'s values within each example's length: token ids in range, reals finite.
  Status checkValues(const Slot &slot, const Shard &shard) const;
  /// The summed lengths of example `index` over the time axes (1 for a model without any).
  int64_t totalLength(size_t index) const;

  std::vector<Slot> slots_;
  std::vector<std::string> axes_;
  std::string target_;    ///< The first target's name.
  std::string itemsAxis_; ///< Its time axis, or empty when the loss is per example.
  std::string metric_;
  int64_t predictionWidth_ = 0; ///< Elements of the prediction per row: classes, or the target's.
  std::shared_ptr<std::vector<Shard>> shards_;
  std::vector<Example> examples_;
};

} // namespace rnnc::model
