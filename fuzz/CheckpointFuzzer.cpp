// Fuzz target: the checkpoint loader of `rnnc train --resume` (and `rnnc sample --params`): the
// bytes through parseCheckpoint (the safetensors reader, then the checkpoint's metadata and
// tensors), then what a resumed run checks of it, in the Trainer's order: the vocabulary, the
// history, the model (examples/elman.rnn) loaded with the checkpoint's dims, the parameters
// against it, and the optimiser state against the parameters. Any bytes must give a checkpoint
// that passes or a user error: a crash, a sanitizer report, a hang or an internal error is a
// finding.
#include "compiler/model/Checkpoint.h"
#include "compiler/model/ModelData.h"
#include "compiler/model/ModelLoading.h"
#include "compiler/model/Parameters.h"
#include "fuzz/FuzzTarget.h"
#include "runtime/Optimizer.h"
#include "runtime/TextData.h"

#include <fstream>
#include <iterator>
#include <string_view>

namespace {

/// The model every checkpoint is checked against, read once.
const std::string &elmanSource() {
  static const std::string source = [] {
    std::ifstream in(RNNC_SOURCE_DIR "/examples/elman.rnn");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  return source;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace rnnc;
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  auto checkpoint = model::parseCheckpoint(bytes, "fuzz.safetensors");
  if (!checkpoint) {
    fuzz::expectUserError(checkpoint.error(), "parseCheckpoint");
    return 0;
  }
  if (auto vocabulary = Vocabulary::fromCharacters(checkpoint->vocabulary, "fuzz.safetensors");
      !vocabulary)
    fuzz::expectUserError(vocabulary.error(), "Vocabulary::fromCharacters");
  model::TrainingHistory history = model::TrainingHistory::fromTensor(checkpoint->history);
  if (int64_t(history.records().size()) != checkpoint->history.shape()[0])
    fuzz::fail("the history does not keep one record per row");

  auto module = model::loadModuleFromSource(elmanSource(), "elman.rnn", checkpoint->dims);
  if (!module) {
    fuzz::expectUserError(module.error(), "loadModuleFromSource with the checkpoint's dims");
    return 0;
  }
  auto forward = model::findGraph(**module, "forward");
  if (!forward)
    fuzz::fail("elman.rnn has no forward graph: " + forward.error().message);
  if (Status checked = model::checkParameters(**forward, checkpoint->params, "fuzz.safetensors");
      !checked) {
    fuzz::expectUserError(checked.error(), "checkParameters");
    return 0;
  }
  for (OptimizerKind kind : {OptimizerKind::Adam, OptimizerKind::Sgd}) {
    if (checkpoint->optimizer != optimizerName(kind))
      continue;
    Optimizer optimizer(OptimizerSettings{.kind = kind});
    if (Status loaded = optimizer.loadState(checkpoint->optimizerState, checkpoint->params);
        !loaded)
      fuzz::expectUserError(loaded.error(), "Optimizer::loadState");
  }
  return 0;
}
