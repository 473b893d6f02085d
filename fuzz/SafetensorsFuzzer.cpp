// Fuzz target: the safetensors reader (parameter, data and checkpoint files come from anyone).
// Any bytes must give tensors or a user error; tensors that load must serialise and load back to
// the same bytes' tensors. A crash, a sanitizer report, a hang, an internal error or a broken
// round trip is a finding.
#include "fuzz/FuzzTarget.h"
#include "runtime/Safetensors.h"

#include <cstring>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char *>(data), size);
  rnnc::SafetensorsMetadata metadata;
  auto tensors = rnnc::parseSafetensors(bytes, "fuzz.safetensors", &metadata);
  if (!tensors) {
    rnnc::fuzz::expectUserError(tensors.error(), "parseSafetensors");
    return 0;
  }
  auto serialised = rnnc::serializeSafetensors(*tensors, metadata);
  if (!serialised) { // only names that cannot be written, which a file that loaded cannot hold
    rnnc::fuzz::fail("a loaded file does not serialise: " + serialised.error().message);
    return 0;
  }
  auto reloaded = rnnc::parseSafetensors(*serialised, "serialised.safetensors");
  if (!reloaded || reloaded->size() != tensors->size())
    rnnc::fuzz::fail("a serialised file does not load back with the same tensors");
  for (const auto &[name, tensor] : *tensors) {
    auto found = reloaded->find(name);
    if (found == reloaded->end() || found->second.dtype() != tensor.dtype() ||
        found->second.shape() != tensor.shape() ||
        found->second.byteSize() != tensor.byteSize() ||
        std::memcmp(found->second.bytes(), tensor.bytes(), tensor.byteSize()) != 0)
      rnnc::fuzz::fail("tensor '" + name + "' changed in a serialise/load round trip");
  }
  return 0;
}
