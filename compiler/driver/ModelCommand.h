// The command line shared by the subcommands that work on a model (init, data, run, gradcheck,
// dump, sample, train, bench, compile, ir, graph): one positional model argument, `--help`, the
// `-D` dim overrides, `--backend`, `--rename` (of a parameter file), writing the output to `-o` or standard output, and running
// the subcommand's body with its errors reported one way. (The pipeline flags are
// PipelineFlags.h's.)
#pragma once

#include "compiler/driver/DriverCommon.h"
#include "compiler/model/Parameters.h"
#include "ir/Graph.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rnnc::driver {

/// A real element type as written on the command line: "f32" or "f64".
Expected<DType> parseRealType(const std::string &option, const std::string &text);

/// Declares `--help`, parses `args` and checks there is exactly one positional argument (`what`
/// names it in the error). Returns the positional argument, or nullopt after printing `synopsis`
/// and the options to stdout for `--help`.
Expected<std::optional<std::string>> parseCommandLine(CommandLine &commandLine,
                                                      const std::vector<std::string> &args,
                                                      const std::string &synopsis,
                                                      const std::string &what);

/// The model argument of a subcommand and its `-D` overrides.
struct ModelArgument {
  std::string path;
  std::map<std::string, long long> dims;
};

/// parseCommandLine for a model file (`what` is "model file"), then the `-D` overrides (declared
/// by declareDimOverrides). Nullopt after --help.
Expected<std::optional<ModelArgument>> parseModelCommandLine(CommandLine &commandLine,
                                                             const std::vector<std::string> &args,
                                                             const std::string &synopsis);

/// The command line of `rnnc <command> <file.rnn|file.rnnir> [options]` (`rnnc ir`,
/// `rnnc graph`): parses `args` (the caller declares --help where its usage lists it); for
/// --help prints that usage line and the options and returns nullopt; else checks there is one
/// input file and reads the `-D` overrides.
Expected<std::optional<ModelArgument>>
parseInputFileCommandLine(CommandLine &commandLine, const std::vector<std::string> &args,
                          const std::string &command);

/// Writes `bytes` to the file `path`, or to standard output without one or for `-`.
Status writeOutput(const std::optional<std::string> &path, const std::string &bytes);

/// The value of an option the subcommand cannot do without.
Expected<std::string> requiredOption(const CommandLine &commandLine, const std::string &name);

/// Declares `-D NAME=VALUE`, the dim overrides of a model file, with `help`.
void declareDimOverrides(CommandLine &commandLine,
                         const std::string &help = "override a dim of the model (repeatable)");

/// Declares `--backend` (`metavar`: the choices) whose default is `defaultBackend`.
void declareBackendOption(CommandLine &commandLine, const std::string &metavar,
                          const std::string &defaultBackend);

/// Declares `--threads N`, whose default is every core (allCores).
void declareThreadsOption(CommandLine &commandLine, const std::string &help);

/// The threads a command uses: --threads, else every core of the machine.
Expected<int64_t> threadCount(const CommandLine &commandLine);

/// Declares `--rename PREFIX=REPLACEMENT` (repeatable), which maps the tensor names of a
/// parameter file made elsewhere onto the model's (compiler/model/Parameters.h).
void declareRenameOption(CommandLine &commandLine);

/// The --rename rules of `commandLine`.
Expected<std::vector<model::ParameterRename>> parameterRenames(const CommandLine &commandLine);

/// Loads the model at `path` with the `-D` overrides of `commandLine`.
Expected<std::unique_ptr<ir::Module>> loadModelWithOverrides(const std::string &path,
                                                             const CommandLine &commandLine);

/// Runs a subcommand's body: an Error (or running out of memory) is reported and gives exit
/// status 1, success 0.
int runSubcommand(const std::function<Status()> &body);

} // namespace rnnc::driver
