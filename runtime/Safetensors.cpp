#include "runtime/Safetensors.h"

#include "runtime/AtomicFile.h"
#include "runtime/Json.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <set>
#include <tuple>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rnnc {

// Tensor bytes are copied to and from files unchanged.
static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

constexpr size_t headerLengthBytes = 8;
constexpr std::string_view metadataKey = "__metadata__";
constexpr std::string_view supportedDTypes = "(supported: F32, F64, I32)";

/// Other dtypes of the safetensors format, which rnnc recognises but does not support.
bool isOtherSafetensorsDType(std::string_view name) {
  for (std::string_view other :
       {"BOOL", "U8", "I8", "U16", "I16", "F16", "BF16", "U32", "U64", "I64", "F8_E4M3", "F8_E5M2",
        "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"})
    if (name == other)
      return true;
  return false;
}

std::string quoteName(std::string_view name) { return "'" + std::string(name) + "'"; }

std::string formatRange(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

/// Where one tensor's bytes lie in the data section.
struct TensorExtent {
  std::string name;
  uint64_t begin, end;
};

/// Parses the JSON header and the data that follows it; every message starts with the source.
class SafetensorsParser {
public:
  SafetensorsParser(std::string_view bytes, const std::string &sourceName)
      : bytes_(bytes), source_(sourceName) {}

  Expected<TensorMap> parse(SafetensorsMetadata *metadata) {
    if (bytes_.size() < headerLengthBytes)
      return fail("truncated file: " + std::to_string(bytes_.size()) +
                  " bytes, too short for the 8-byte header length");
    uint64_t headerLength = 0;
    for (size_t i = 0; i < headerLengthBytes; ++i)
      headerLength |= uint64_t(static_cast<unsigned char>(bytes_[i])) << (8 * i);
    uint64_t rest = bytes_.size() - headerLengthBytes;
    if (headerLength > rest)
      return fail("header length " + std::to_string(headerLength) +
                  " is larger than the rest of the file (" + std::to_string(rest) + " bytes)");
    std::string_view header = bytes_.substr(headerLengthBytes, headerLength);
    data_ = bytes_.substr(headerLengthBytes + headerLength);

    // The reference reader insists on '{' first; trailing spaces are the writer's padding.
    if (header.empty() || header.front() != '{')
      return fail("bad JSON header: expected '{' at byte 0");
    Expected<JsonValue> json = parseJson(header);
    if (!json)
      return fail("bad JSON header: " + json.error().message);

    TensorMap tensors;
    std::vector<TensorExtent> extents;
    bool seenMetadata = false;
    for (const auto &[name, entry] : json->members) {
      if (name == metadataKey) {
        if (seenMetadata)
          return fail("duplicate '__metadata__'");
        seenMetadata = true;
        if (Status status = parseMetadata(entry, metadata); !status)
          return status.takeError();
        continue;
      }
      if (tensors.count(name))
        return fail("duplicate tensor name " + quoteName(name));
      Expected<TensorExtent> extent = parseTensor(name, entry, tensors);
      if (!extent)
        return extent.takeError();
      extents.push_back(extent.take());
    }
    if (Status status = checkTiling(extents); !status)
      return status.takeError();
    return tensors;
  }

private:
  Error fail(const std::string &message) const { return Error::user(source_ + ": " + message); }
  Error failTensor(const std::string &name, const std::string &message) const {
    return fail("tensor " + quoteName(name) + ": " + message);
  }

  Status parseMetadata(const JsonValue &entry, SafetensorsMetadata *metadata) {
    if (entry.kind != JsonValue::Kind::Object)
      return fail("'__metadata__' must be an object of strings, got " +
                  std::string(entry.kindName()));
    std::set<std::string> seen;
    for (const auto &[key, value] : entry.members) {
      if (!seen.insert(key).second)
        return fail("duplicate '__metadata__' key " + quoteName(key));
      if (value.kind != JsonValue::Kind::String)
        return fail("'__metadata__' entry " + quoteName(key) + " must be a string, got " +
                    std::string(value.kindName()));
      if (metadata)
        (*metadata)[key] = value.text;
    }
    return Status::ok();
  }

  /// Looks up the three fields of a tensor entry; unknown fields are ignored, as the reference
  /// reader does.
  Status findFields(const std::string &name, const JsonValue &entry, const JsonValue *&dtype,
                    const JsonValue *&shape, const JsonValue *&offsets) {
    if (entry.kind != JsonValue::Kind::Object)
      return failTensor(name, "expected an object with dtype, shape and data_offsets, got " +
                                  std::string(entry.kindName()));
    dtype = shape = offsets = nullptr;
    for (const auto &[key, value] : entry.members) {
      const JsonValue **field = key == "dtype"          ? &dtype
                                : key == "shape"        ? &shape
                                : key == "data_offsets" ? &offsets
                                                        : nullptr;
      if (!field)
        continue;
      if (*field)
        return failTensor(name, "duplicate field " + quoteName(key));
      *field = &value;
    }
    for (auto [field, fieldName] :
         {std::pair{dtype, "dtype"}, std::pair{shape, "shape"}, std::pair{offsets, "data_offsets"}})
      if (!field)
        return failTensor(name, "missing " + quoteName(fieldName));
    return Status::ok();
  }

  Expected<DType> parseDTypeField(const std::string &name, const JsonValue &field) {
    if (field.kind != JsonValue::Kind::String)
      return failTensor(name, "dtype must be a string, got " + std::string(field.kindName()));
    if (std::optional<DType> dtype = parseDType(field.text))
      return *dtype;
    if (isOtherSafetensorsDType(field.text))
      return fail("tensor " + quoteName(name) + " has dtype " + field.text +
                  ", which rnnc does not support " + std::string(supportedDTypes));
    return fail("tensor " + quoteName(name) + " has unknown dtype " + quoteName(field.text) + " " +
                std::string(supportedDTypes));
  }

  /// A JSON number that must be a non-negative integer; `what` names it in messages.
  Expected<int64_t> parseCount(const std::string &name, const JsonValue &value,
                               const std::string &what) {
    if (value.kind != JsonValue::Kind::Number)
      return failTensor(name, what + " must be a non-negative integer, got " +
                                  std::string(value.kindName()));
    std::optional<int64_t> count = value.asInt64();
    if (count && *count >= 0)
      return *count;
    bool allDigits = std::all_of(value.text.begin(), value.text.end(),
                                 [](char c) { return c >= '0' && c <= '9'; });
    if (allDigits)
      return failTensor(name, what + " " + value.text + " is too large");
    return failTensor(name, what + " " + value.text + " is not a non-negative integer");
  }

  Expected<std::vector<int64_t>> parseShape(const std::string &name, const JsonValue &field) {
    if (field.kind != JsonValue::Kind::Array)
      return failTensor(name, "shape must be an array, got " + std::string(field.kindName()));
    std::vector<int64_t> shape;
    for (const JsonValue &entry : field.elements) {
      Expected<int64_t> extent = parseCount(name, entry, "shape entry");
      if (!extent)
        return extent.takeError();
      shape.push_back(*extent);
    }
    if (!elementCount(shape))
      return failTensor(name, "shape " + formatShape(shape) + " has too many elements");
    return shape;
  }

  Expected<TensorExtent> parseOffsets(const std::string &name, const JsonValue &field) {
    if (field.kind != JsonValue::Kind::Array || field.elements.size() != 2)
      return failTensor(name, "data_offsets must be an array [begin, end]");
    Expected<int64_t> begin = parseCount(name, field.elements[0], "data_offsets entry");
    if (!begin)
      return begin.takeError();
    Expected<int64_t> end = parseCount(name, field.elements[1], "data_offsets entry");
    if (!end)
      return end.takeError();
    if (*end < *begin)
      return failTensor(name,
                        "data_offsets " + formatRange(*begin, *end) + " end before they begin");
    if (uint64_t(*end) > data_.size())
      return failTensor(name, "data_offsets " + formatRange(*begin, *end) +
                                  " go past the end of the data (" + std::to_string(data_.size()) +
                                  " bytes)");
    return TensorExtent{name, uint64_t(*begin), uint64_t(*end)};
  }

  /// Validates one entry and adds the tensor, with its bytes, to `tensors`.
  Expected<TensorExtent> parseTensor(const std::string &name, const JsonValue &entry,
                                     TensorMap &tensors) {
    const JsonValue *dtypeField, *shapeField, *offsetsField;
    if (Status status = findFields(name, entry, dtypeField, shapeField, offsetsField); !status)
      return status.takeError();
    Expected<DType> dtype = parseDTypeField(name, *dtypeField);
    if (!dtype)
      return dtype.takeError();
    Expected<std::vector<int64_t>> shape = parseShape(name, *shapeField);
    if (!shape)
      return shape.takeError();
    Expected<TensorExtent> extent = parseOffsets(name, *offsetsField);
    if (!extent)
      return extent.takeError();

    uint64_t stored = extent->end - extent->begin;
    uint64_t needed = uint64_t(*elementCount(*shape)) * dtypeSize(*dtype);
    if (stored != needed)
      return failTensor(name, "data_offsets " + formatRange(extent->begin, extent->end) + " hold " +
                                  std::to_string(stored) + " bytes, but shape " +
                                  formatShape(*shape) + " of " + std::string(dtypeName(*dtype)) +
                                  " needs " + std::to_string(needed));
    Tensor tensor(*dtype, shape.take());
    if (stored)
      std::memcpy(tensor.bytes(), data_.data() + extent->begin, stored);
    tensors.emplace(name, std::move(tensor));
    return extent;
  }

  /// The tensors, in offset order, must cover the data exactly once.
  Status checkTiling(std::vector<TensorExtent> &extents) {
    std::sort(extents.begin(), extents.end(), [](const TensorExtent &a, const TensorExtent &b) {
      return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
    });
    uint64_t covered = 0;
    for (size_t i = 0; i < extents.size(); ++i) {
      const TensorExtent &extent = extents[i];
      if (extent.begin < covered) {
        const TensorExtent &previous = extents[i - 1];
        return fail("tensors " + quoteName(previous.name) + " and " + quoteName(extent.name) +
                    " overlap: data_offsets " + formatRange(previous.begin, previous.end) +
                    " and " + formatRange(extent.begin, extent.end));
      }
      if (extent.begin > covered)
        return failUnused(covered, extent.begin);
      covered = extent.end;
    }
    if (covered != data_.size())
      return failUnused(covered, data_.size());
    return Status::ok();
  }

  Error failUnused(uint64_t begin, uint64_t end) const {
    return fail("bytes [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") of the data belong to no tensor");
  }

  std::string_view bytes_;
  std::string_view data_;
  const std::string &source_;
};

/// Where each tensor goes in the data, in data order: widest elements first, then by name, so
/// every tensor starts at a multiple of its element size (the data itself starts at a multiple
/// of 8) and PyTorch can view the bytes in place.
std::vector<TensorExtent> layoutData(const TensorMap &tensors) {
  std::vector<const TensorMap::value_type *> order;
  for (const auto &entry : tensors)
    order.push_back(&entry);
  std::stable_sort(order.begin(), order.end(), [](const auto *a, const auto *b) {
    return dtypeSize(a->second.dtype()) > dtypeSize(b->second.dtype());
  });
  std::vector<TensorExtent> layout;
  uint64_t offset = 0;
  for (const auto *entry : order) {
    layout.push_back({entry->first, offset, offset + entry->second.byteSize()});
    offset += entry->second.byteSize();
  }
  return layout;
}

/// The JSON header, padded with spaces to a multiple of 8 bytes: metadata first, as the reference
/// writer does, then the tensors by name.
std::string headerJson(const TensorMap &tensors, const std::vector<TensorExtent> &layout,
                       const SafetensorsMetadata &metadata) {
  std::vector<std::string> entries;
  if (!metadata.empty()) {
    std::string pairs;
    for (const auto &[key, value] : metadata)
      pairs += (pairs.empty() ? "" : ",") + quoteJson(key) + ":" + quoteJson(value);
    entries.push_back(quoteJson(metadataKey) + ":{" + pairs + "}");
  }
  std::map<std::string_view, const TensorExtent *> extents;
  for (const TensorExtent &extent : layout)
    extents[extent.name] = &extent;
  for (const auto &[name, tensor] : tensors) {
    std::string shape;
    for (int64_t extent : tensor.shape())
      shape += (shape.empty() ? "" : ",") + std::to_string(extent);
    const TensorExtent &extent = *extents.at(name);
    entries.push_back(quoteJson(name) + ":{\"dtype\":\"" + std::string(dtypeName(tensor.dtype())) +
                      "\",\"shape\":[" + shape + "],\"data_offsets\":[" +
                      std::to_string(extent.begin) + "," + std::to_string(extent.end) + "]}");
  }
  std::string header = "{";
  for (size_t i = 0; i < entries.size(); ++i)
    header += (i ? "," : "") + entries[i];
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  return header;
}

std::string errnoMessage() { return std::strerror(errno); }

/// Reads a whole file with POSIX calls, so that every failure has an errno to report.
Expected<std::string> readWholeFile(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Error::user(path + ": cannot open: " + errnoMessage());
  std::string contents;
  struct stat info;
  if (::fstat(fd, &info) == 0 && info.st_size > 0)
    contents.reserve(size_t(info.st_size));
  char buffer[1 << 16];
  while (true) {
    ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR)
      continue;
    if (count < 0) {
      Error error = Error::user(path + ": cannot read: " + errnoMessage());
      ::close(fd);
      return error;
    }
    if (count == 0)
      break;
    contents.append(buffer, size_t(count));
  }
  ::close(fd);
  return contents;
}

} // namespace

Expected<TensorMap> parseSafetensors(std::string_view bytes, const std::string &sourceName,
                                     SafetensorsMetadata *metadata) {
  return SafetensorsParser(bytes, sourceName).parse(metadata);
}

Expected<std::string> serializeSafetensors(const TensorMap &tensors,
                                           const SafetensorsMetadata &metadata) {
  for (const auto &[name, tensor] : tensors) {
    if (name == metadataKey)
      return Error::user("cannot write a tensor named '__metadata__': the name is reserved");
    if (!isValidUtf8(name))
      return Error::user("cannot write tensor " + quoteName(name) + ": name is not valid UTF-8");
  }
  for (const auto &[key, value] : metadata)
    if (!isValidUtf8(key) || !isValidUtf8(value))
      return Error::user("cannot write metadata " + quoteName(key) + ": not valid UTF-8");

  std::vector<TensorExtent> layout = layoutData(tensors);
  std::string header = headerJson(tensors, layout, metadata);
  std::string bytes;
  bytes.reserve(headerLengthBytes + header.size() + (layout.empty() ? 0 : layout.back().end));
  for (size_t i = 0; i < headerLengthBytes; ++i)
    bytes += char((uint64_t(header.size()) >> (8 * i)) & 0xFF);
  bytes += header;
  for (const TensorExtent &extent : layout) {
    const Tensor &tensor = tensors.at(extent.name);
    bytes.append(reinterpret_cast<const char *>(tensor.bytes()), tensor.byteSize());
  }
  return bytes;
}

Expected<TensorMap> readSafetensors(const std::string &path, SafetensorsMetadata *metadata) {
  Expected<std::string> contents = readWholeFile(path);
  if (!contents)
    return contents.takeError();
  return parseSafetensors(*contents, path, metadata);
}

Status writeSafetensors(const std::string &path, const TensorMap &tensors,
                        const SafetensorsMetadata &metadata) {
  Expected<std::string> bytes = serializeSafetensors(tensors, metadata);
  if (!bytes)
    return Error::user(path + ": " + bytes.error().message);
  return writeFileAtomically(path, *bytes);
}

Status checkTensor(const std::string &name, const Tensor &tensor, DType expected,
                   const std::vector<int64_t> &shape) {
  if (tensor.dtype() != expected)
    return Error::user("tensor " + quoteName(name) + " has dtype " +
                       std::string(dtypeName(tensor.dtype())) + ", expected " +
                       std::string(dtypeName(expected)));
  if (tensor.shape() != shape)
    return Error::user("tensor " + quoteName(name) + " has shape " + formatShape(tensor.shape()) +
                       ", expected " + formatShape(shape));
  return Status::ok();
}

Status checkTokenRange(const std::string &name, const Tensor &tensor, int64_t vocab) {
  if (tensor.dtype() != DType::I32)
    return Error::user("tensor " + quoteName(name) + " has dtype " +
                       std::string(dtypeName(tensor.dtype())) + ", expected I32");
  std::span<const int32_t> ids = tensor.values<int32_t>();
  auto bad =
      std::find_if(ids.begin(), ids.end(), [&](int32_t id) { return id < 0 || id >= vocab; });
  if (bad == ids.end())
    return Status::ok();
  // Row-major flat position back to one index per dimension.
  int64_t flat = bad - ids.begin();
  std::vector<int64_t> index(tensor.shape().size());
  for (size_t d = index.size(); d-- > 0;) {
    index[d] = flat % tensor.shape()[d];
    flat /= tensor.shape()[d];
  }
  return Error::user("tensor " + quoteName(name) + ": token id " + std::to_string(*bad) +
                     " at index " + formatShape(index) + " is out of range [0, " +
                     std::to_string(vocab) + ")");
}

} // namespace rnnc
