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

} // namespace rnnc::ir
