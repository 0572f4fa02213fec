# Included by the consumer projects after qkern was added: qkern is not the top-level project here,
# so none of its own tests, benchmarks, examples, developer flags or install rules may exist.
foreach(_t qkern_tests qkern_bench qkern_demo qkern_dev_flags)
  if(TARGET ${_t})
    message(FATAL_ERROR "qkern built its own target ${_t} although it is not the top-level project")
  endif()
endforeach()
if(QKERN_BUILD_TESTS OR QKERN_BUILD_BENCHMARKS OR QKERN_BUILD_EXAMPLES OR QKERN_INSTALL)
  message(FATAL_ERROR "qkern's tests/benchmarks/examples/install options default to ON in a consumer")
endif()
