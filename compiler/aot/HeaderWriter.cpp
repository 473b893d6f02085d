// writeHeader (HeaderWriter.h).
#include "compiler/aot/HeaderWriter.h"

#include "runtime/AotABI.h"

#include <cctype>
#include <set>
#include <sstream>

namespace rnnc::aot {

namespace {

std::string upper(std::string text) {
  for (char &c : text)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

/// `name` with every character that cannot be in a C identifier replaced by '_' ("grad.W" ->
/// "grad_W"); case is kept, so `W` and `w` stay apart.
std::string identifierPart(const std::string &name) {
  std::string part = name;
  for (char &c : part)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
      c = '_';
  return part;
}

const char *dtypeName(int32_t dtype) {
  switch (dtype) {
  case RNNC_DTYPE_F32:
    return "f32";
  case RNNC_DTYPE_F64:
    return "f64";
  default:
    return "i32";
  }
}

const char *roleName(int32_t role) {
  switch (role) {
  case RNNC_ROLE_INPUT:
    return "input";
  case RNNC_ROLE_TARGET:
    return "target";
  default:
    return "";
  }
}

/// "f32 [T_t, B, 128]": the whole tensor a host passes or receives.
std::string layoutText(const TensorDescription &tensor, const KernelDescription &kernel) {
  std::vector<std::string> dims;
  if (tensor.layout == RNNC_LAYOUT_BATCHED) {
    if (tensor.axis >= 0)
      dims.push_back("T_" + kernel.axes[static_cast<size_t>(tensor.axis)]);
    dims.push_back("B");
  }
  for (int64_t dim : tensor.shape)
    dims.push_back(std::to_string(dim));
  std::string text = std::string(dtypeName(tensor.dtype)) + " [";
  for (size_t i = 0; i < dims.size(); ++i)
    text += (i ? ", " : "") + dims[i];
  text += "]";
  if (tensor.vocab > 0)
    text += ", token ids in [0, " + std::to_string(tensor.vocab) + ")";
  if (tensor.role == RNNC_ROLE_INPUT || tensor.role == RNNC_ROLE_TARGET)
    text += std::string(", ") + roleName(tensor.role);
  if (tensor.isPrime)
    text += ", prime (may have fewer steps)";
  if (tensor.role == RNNC_ROLE_OUTPUT && tensor.layout == RNNC_LAYOUT_UNBATCHED)
    text += ", summed over the batch";
  return text;
}

class HeaderText {
public:
  explicit HeaderText(const LibraryDescription &library)
      : library_(library), macroPrefix_(upper(library.prefix)) {}

  Expected<std::string> write() {
    const std::string &p = library_.prefix;
    std::string guard = "RNNC_MODEL_" + macroPrefix_ + "_H";
    out_ << "/* " << p << ".h: the C interface of model '" << library_.modelName << "' ("
         << library_.source << "), compiled ahead of time by `rnnc compile`.\n"
         << " * Generated; do not edit. The ABI is documented in rnnc's docs/aot.md.\n"
         << " *\n"
         << " * To call a kernel K: allocate its workspace, K_workspace_bytes(B, padded) bytes,\n"
         << " * 64-byte aligned; zero-fill its outputs; fill a rnnc_rt_kernel_args with the batch\n"
         << " * size, per time axis the padded length T and every example's length (and prime\n"
         << " * length, 0 without generation), and pointers to the tensors below in the order of\n"
         << " * their indices; set args.runtime to a context from rnnc_rt_context_create; call K;\n"
         << " * then rnnc_rt_error_message(context, &K_info, ...) is nonzero when it failed.\n"
         << " * Sequences are time-major [T, B, ...]; reals are in the kernel's precision. */\n"
         << "#ifndef " << guard << "\n#define " << guard << "\n\n"
         << "#include \"runtime/AotABI.h\"\n\n"
         << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
    out_ << "/* The model's dims, as compiled. */\n";
    for (const auto &[name, value] : library_.dims)
      out_ << "#define " << macroPrefix_ << "_DIM_" << identifierPart(name) << " " << value
           << "\n";
    out_ << "\n/* Every kernel and table of the model; its parameter table is that of forward. */\n"
         << "extern const rnnc_model_info " << library_.modelSymbol << ";\n";
    for (const KernelDescription &kernel : library_.kernels)
      if (Status written = writeKernel(kernel); !written)
        return written.takeError();
    out_ << "\n#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n#endif /* " << guard
         << " */\n";
    return out_.str();
  }

private:
  Status writeKernel(const KernelDescription &kernel) {
    std::string macro = macroPrefix_ + "_" + upper(kernel.kind);
    out_ << "\n/* ---- " << kernel.kind << " (" << dtypeName(kernel.dtype) << ") ---- */\n";
    if (kernel.axes.empty())
      out_ << "/* No time axes: paddedLengths, lengths and primeLengths are not read. */\n";
    for (size_t i = 0; i < kernel.axes.size(); ++i)
      out_ << "#define " << macro << "_AXIS_" << identifierPart(kernel.axes[i]) << " " << i
           << " /* time axis '" << kernel.axes[i] << "' */\n";
    std::set<std::string> macros;
    struct Group {
      const char *name, *count;
      const std::vector<TensorDescription> *tensors;
    };
    for (auto [group, count, tensors] : {Group{"PARAM", "PARAMS", &kernel.params},
                                         Group{"DATA", "DATA", &kernel.data},
                                         Group{"OUTPUT", "OUTPUTS", &kernel.outputs}}) {
      out_ << "#define " << macro << "_NUM_" << count << " " << tensors->size() << "\n";
      for (size_t i = 0; i < tensors->size(); ++i) {
        const TensorDescription &tensor = (*tensors)[i];
        std::string name = macro + "_" + group + "_" + identifierPart(tensor.name);
        if (!macros.insert(name).second)
          return Error::user("two tensors of kernel '" + kernel.kind +
                             "' have the C name '" + name + "' (rename one in the model)");
        out_ << "#define " << name << " " << i << " /* " << tensor.name << ": "
             << layoutText(tensor, kernel) << " */\n";
      }
    }
    out_ << "void " << kernel.entry << "(const rnnc_rt_kernel_args *args);\n"
         << "int64_t " << kernel.workspaceFunction
         << "(int64_t batch_size, const int64_t *padded_lengths);\n"
         << "extern const rnnc_kernel_info " << kernel.infoSymbol << ";\n";
    return Status::ok();
  }

  const LibraryDescription &library_;
  std::string macroPrefix_;
  std::ostringstream out_;
};

} // namespace

Expected<std::string> writeHeader(const LibraryDescription &library) {
  return HeaderText(library).write();
}

} // namespace rnnc::aot
