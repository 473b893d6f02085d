// Reading and writing safetensors files (https://github.com/huggingface/safetensors), the
// checkpoint format shared with PyTorch, and the checks callers make on tensors they load.
//
// Layout: an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// then the data; offsets are relative to the start of the data. The reader is strict: every
// malformed file is a user error naming the file and the tensor, never a crash, and like the
// reference `safetensors` library it requires the tensors to tile the data exactly (no overlap,
// no gap, nothing after the last one). Supported dtypes: F32, F64, I32; F16 and BF16 (PyTorch's
// half-precision weights) are read as F32, exactly (every half value is a float). The writer
// pads the header with spaces so the data starts at a multiple of 8 bytes, lists tensors by name,
// and places each tensor's data at a multiple of its element size, so PyTorch can view the bytes
// in place.
#pragma once

#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rnnc {

using SafetensorsMetadata = std::map<std::string, std::string>;

/// Parses a whole safetensors file held in memory. `sourceName` (usually the path) starts every
/// error message. If `metadata` is given, it receives the "__metadata__" entries.
Expected<TensorMap> parseSafetensors(std::string_view bytes, const std::string &sourceName,
                                     SafetensorsMetadata *metadata = nullptr);

/// The bytes of a safetensors file holding `tensors` and `metadata`. Fails only for a tensor
/// name that cannot be written (not UTF-8, or the reserved "__metadata__").
Expected<std::string> serializeSafetensors(const TensorMap &tensors,
                                           const SafetensorsMetadata &metadata = {});

/// Reads the file at `path`.
Expected<TensorMap> readSafetensors(const std::string &path,
                                    SafetensorsMetadata *metadata = nullptr);

/// Writes the file at `path` atomically (writeFileAtomically, runtime/Files.h): a crash
/// leaves the old file or the new one. On failure `path` is untouched.
Status writeSafetensors(const std::string &path, const TensorMap &tensors,
                        const SafetensorsMetadata &metadata = {});

/// Checks a loaded tensor against what the model expects, e.g.
/// "tensor 'W' has shape [128, 64], expected [128, 128]".
Status checkTensor(const std::string &name, const Tensor &tensor, DType expected,
                   const std::vector<int64_t> &shape);

/// Checks that every id of the I32 tensor `tensor` is in [0, vocab), e.g.
/// "tensor 'x': token id 70 at index [3, 1] is out of range [0, 65)".
Status checkTokenRange(const std::string &name, const Tensor &tensor, int64_t vocab);

} // namespace rnnc
