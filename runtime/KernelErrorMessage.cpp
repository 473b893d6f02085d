// kernelErrorMessage (KernelErrorMessage.h).
#include "runtime/KernelErrorMessage.h"

#include <sstream>

namespace rnnc {

namespace {

std::string formatReal(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

} // namespace

std::optional<std::string> kernelErrorMessage(const KernelError &error, const std::string &where,
                                              const std::string &axis) {
  switch (error.code) {
  case KernelErrorCode::BadProbability:
    return where + ": cannot sample from probability " + formatReal(error.value) + " at index " +
           std::to_string(error.first);
  case KernelErrorCode::ZeroProbabilities:
    return where + ": cannot sample from probabilities that sum to zero";
  case KernelErrorCode::StepOutOfRange:
    return where + " reads step " + std::to_string(error.first) + " of axis '" + axis +
           "', but the example has " + std::to_string(error.second) + " steps";
  case KernelErrorCode::StackLengthMismatch:
    return where + " stacks " + std::to_string(error.first) + " steps on axis '" + axis +
           "', but the example has " + std::to_string(error.second) + " steps";
  case KernelErrorCode::None:
    break;
  }
  return std::nullopt;
}

} // namespace rnnc
