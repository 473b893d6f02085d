# Checks the layering of rnnc (docs/architecture.md) and fails naming every violation:
#   - no file under compiler/api includes compiler/driver (the library is not built on the tool);
#   - no file under compiler/model includes compiler/driver or compiler/api;
#   - no file under compiler/backend includes a backend (compiler/jit, compiler/aot) or a layer
#     above it (compiler/model, compiler/driver, compiler/api);
#   - the link closures of rnnc_api and rnnc_model (API_LINKS, MODEL_LINKS, comma-separated,
#     computed by test/layering/CMakeLists.txt) hold no rnnc_driver, and that of rnnc_backend
#     no backend (rnnc_jit, rnnc_aot).
# Run as: cmake -DSOURCE_DIR=... -DAPI_LINKS=... -DMODEL_LINKS=... -DBACKEND_LINKS=... -P
cmake_minimum_required(VERSION 3.25)
set(violations "")

# Every file of `directory` that includes a header under one of the directories `forbidden`.
function(check_includes directory)
  file(GLOB_RECURSE sources ${SOURCE_DIR}/${directory}/*.h ${SOURCE_DIR}/${directory}/*.cpp)
  if(NOT sources)
    message(FATAL_ERROR "no sources under ${directory}: is SOURCE_DIR (${SOURCE_DIR}) right?")
  endif()
  foreach(source ${sources})
    file(STRINGS ${source} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
    foreach(include ${includes})
      foreach(layer ${ARGN})
        if(include MATCHES "[\"<]${layer}/")
          file(RELATIVE_PATH relative ${SOURCE_DIR} ${source})
          list(APPEND violations "${relative} includes ${layer}: ${include}")
        endif()
      endforeach()
    endforeach()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

# A violation for every target of `forbidden` in the link closure `links` of `target`.
function(check_links target closure)
  string(REPLACE "," ";" links "${closure}")
  foreach(forbidden ${ARGN})
    if(forbidden IN_LIST links)
      list(APPEND violations "${target} links ${forbidden} (its link closure: ${closure})")
    endif()
  endforeach()
  set(violations "${violations}" PARENT_SCOPE)
endfunction()

check_includes(compiler/api compiler/driver)
check_includes(compiler/model compiler/driver compiler/api)
check_includes(compiler/backend compiler/jit compiler/aot compiler/model compiler/driver
               compiler/api)
check_links(rnnc_api "${API_LINKS}" rnnc_driver)
check_links(rnnc_model "${MODEL_LINKS}" rnnc_driver rnnc_api)
check_links(rnnc_backend "${BACKEND_LINKS}" rnnc_jit rnnc_aot rnnc_model rnnc_driver)

if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "layering violated:\n  ${text}")
endif()
message(STATUS "layering holds: api, model and backend include and link nothing above them")
