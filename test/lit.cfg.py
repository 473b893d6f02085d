# lit configuration: every test runs the built `rnnc` with FileCheck from LLVM 19.
import os
import shutil
import subprocess
import lit.formats

config.name = "rnnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".rnn", ".rnnir", ".test"]
config.excludes = ["Inputs", "unit", "lit.cfg.py", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.rnnc_obj_root, "test")

bin_dir = os.path.join(config.rnnc_obj_root, "bin")
config.environment["PATH"] = os.pathsep.join(
    [bin_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ.get("PATH", ""))])
# The JIT's compile cache (compiler/jit/CompileCache.h) goes under the build tree, never into the
# real home.
config.environment["XDG_CACHE_HOME"] = os.path.join(config.rnnc_obj_root, "test", "cache")
config.substitutions.append(("%examples", os.path.join(config.rnnc_src_root, "examples")))
config.substitutions.append(("%python", config.python))

if shutil.which("dot"):
    config.available_features.add("graphviz")

# Peer parity (test/peer/) runs Debian's python3 with python3-torch; where torch is missing those
# tests are UNSUPPORTED (`REQUIRES: torch`), never passed.
peer_python = "/usr/bin/python3"
config.substitutions.append(("%peer_python", peer_python))
# The data-set tests write their files with numpy, as a user would: python3-numpy is a required
# package (scripts/deps.sh) of that same python.
config.substitutions.append(("%numpy_python", peer_python))
if os.path.exists(peer_python) and subprocess.run(
        [peer_python, "-c", "import torch"], capture_output=True).returncode == 0:
    config.available_features.add("torch")
