// The `rnnc` tool: dispatches `rnnc <command> ...` to the registered subcommands.
#include "compiler/driver/DriverCommon.h"

#include <iostream>

int main(int argc, char **argv) {
  auto &commands = rnnc::driver::commandRegistry();
  auto printUsage = [&](std::ostream &out) {
    out << "usage: rnnc <command> [options]\n\ncommands:\n";
    for (const auto &[name, info] : commands)
      out << "  " << name << std::string(name.size() < 12 ? 12 - name.size() : 1, ' ')
          << info.summary << "\n";
    out << "\nRun 'rnnc <command> --help' for the options of one command.\n";
  };
  if (argc < 2) {
    printUsage(std::cerr);
    return 1;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    printUsage(std::cout);
    return 0;
  }
  auto command = commands.find(name);
  if (command == commands.end()) {
    std::cerr << "rnnc: error: unknown command '" << name << "'\n";
    printUsage(std::cerr);
    return 1;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  return command->second.run(args);
}
