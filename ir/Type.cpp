#include "ir/Type.h"

namespace rnnc::ir {

int64_t Type::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

Type Type::stepType() const {
  Type step = *this;
  step.axis.clear();
  return step;
}

Type Type::sequenceOver(const std::string &timeAxis) const {
  Type sequence = *this;
  sequence.axis = timeAxis;
  return sequence;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string Type::str() const {
  std::string text;
  if (isToken()) {
    text = "tok<" + std::to_string(vocab) + ">";
  } else {
    text = "f32[";
    for (size_t i = 0; i < shape.size(); ++i)
      text += (i ? "," : "") + std::to_string(shape[i]);
    text += "]";
  }
  if (isSequence())
    text += "[" + axis + "]";
  return text;
}

std::string segmentAxisName(const std::string &base, int64_t factor) {
  return base + "/" + std::to_string(factor);
}

std::optional<SegmentAxis> parseSegmentAxis(const std::string &axis) {
  size_t slash = axis.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == axis.size())
    return std::nullopt;
  int64_t factor = 0;
  for (char c : axis.substr(slash + 1)) {
    if (c < '0' || c > '9' || factor > (int64_t(1) << 40))
      return std::nullopt;
    factor = factor * 10 + (c - '0');
  }
  if (factor < 1)
    return std::nullopt;
  return SegmentAxis{axis.substr(0, slash), factor};
}

} // namespace rnnc::ir
