# rnnc_add_model(<target> <model.rnn> [DIMS NAME=VALUE...] [NAME prefix] [PRECISION f32|f64]
#                [CPU name] [FEATURES list] [OPTIONS extra rnnc compile arguments...])
#
# Compiles a model ahead of time at build time (`rnnc compile model.rnn -o <prefix>.o --header
# <prefix>.h`) and makes <target> a static library of the object: its include directory holds
# the header, and it links the rnnc runtime (rnnc::runtime, no LLVM) and libm. Symbols are
# prefixed by NAME (default: the model file's stem made a C identifier). The C ABI is in rnnc's
# docs/aot.md. Works in rnnc's own build tree and, after find_package(rnnc), in any project; the
# project must enable C++ (the runtime is C++) as well as the language of its host code.
#
# Invariant: the object is rebuilt when the model file or the rnnc executable changes.
include_guard(GLOBAL)

function(rnnc_add_model target model)
  cmake_parse_arguments(PARSE_ARGV 2 RNNC "" "NAME;PRECISION;CPU;FEATURES" "DIMS;OPTIONS")
  if(RNNC_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "rnnc_add_model(${target}): unexpected arguments: ${RNNC_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET rnnc::rnnc OR NOT TARGET rnnc::runtime)
    message(FATAL_ERROR "rnnc_add_model(${target}): the targets rnnc::rnnc and rnnc::runtime are "
                        "missing (call find_package(rnnc) first)")
  endif()
  get_filename_component(model_path "${model}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(RNNC_NAME)
    set(prefix "${RNNC_NAME}")
  else()
    get_filename_component(prefix "${model_path}" NAME_WE)
    string(MAKE_C_IDENTIFIER "${prefix}" prefix)
  endif()

  set(arguments --name "${prefix}")
  foreach(dim IN LISTS RNNC_DIMS)
    list(APPEND arguments -D "${dim}")
  endforeach()
  if(RNNC_PRECISION)
    list(APPEND arguments --precision "${RNNC_PRECISION}")
  endif()
  if(RNNC_CPU)
    list(APPEND arguments --cpu "${RNNC_CPU}")
  endif()
  if(RNNC_FEATURES)
    list(APPEND arguments --features "${RNNC_FEATURES}")
  endif()
  list(APPEND arguments ${RNNC_OPTIONS})

  set(directory "${CMAKE_CURRENT_BINARY_DIR}/${target}.rnnc")
  set(object "${directory}/${prefix}.o")
  set(header "${directory}/${prefix}.h")
  file(MAKE_DIRECTORY "${directory}")
  add_custom_command(
    OUTPUT "${object}" "${header}"
    COMMAND rnnc::rnnc compile "${model_path}" -o "${object}" --header "${header}" ${arguments}
    DEPENDS "${model_path}" rnnc::rnnc
    COMMENT "Compiling the RNN model ${model} ahead of time"
    VERBATIM)
  set_source_files_properties("${object}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)

  add_library(${target} STATIC "${object}" "${header}")
  if(CMAKE_C_COMPILER_LOADED)
    set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  else()
    set_target_properties(${target} PROPERTIES LINKER_LANGUAGE CXX)
  endif()
  target_include_directories(${target} PUBLIC "${directory}")
  target_link_libraries(${target} PUBLIC rnnc::runtime m)
endfunction()
