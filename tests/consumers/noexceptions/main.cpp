// qkern — SPDX-License-Identifier: Apache-2.0
// main.cpp: header-only consumer compiled with -fno-exceptions. argv[1] picks the case:
//   checks   the ordinary consumer checks (exit 0);
//   invalid  quantize with scale 0: the handler prints the message and exits 0;
//   data     deserialize a blob that is not a qkern statistic: likewise;
//   returns  a handler that returns: qkern must abort (caught here as SIGABRT, reported, exit 0).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "consumer_checks.hpp"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#error "this consumer must be compiled with -fno-exceptions"
#endif
static_assert(QKERN_NO_EXCEPTIONS == 1, "QKERN_NO_EXCEPTIONS must follow -fno-exceptions");

namespace {

void exit_handler(qkern::ErrorKind kind, const char* argument, const char* message) {
  std::printf("handled %s '%s': %s\n", kind == qkern::ErrorKind::invalid_argument ? "invalid_argument" : "data_error",
              argument, message);
  std::fflush(stdout);
  std::_Exit(0);
}

void returning_handler(qkern::ErrorKind, const char*, const char* message) {
  std::printf("handler returned for: %s\n", message);
  std::fflush(stdout);
}

extern "C" void on_abort(int) {
  std::printf("aborted after the handler returned\n");
  std::fflush(stdout);
  std::_Exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "checks";
  if (std::strcmp(what, "checks") == 0) return consumer::run_all(QKERN_EXPECTED_VERSION);
  qkern::set_error_handler(std::strcmp(what, "returns") == 0 ? returning_handler : exit_handler);
  std::signal(SIGABRT, on_abort);  // "returns": qkern must call abort() once the handler returns
  if (std::strcmp(what, "data") == 0) {
    const std::vector<std::uint8_t> blob(64, 0x5a);
    (void)qkern::HistogramObserver::deserialize(blob);
  } else {
    const float x[1] = {1.0f};
    std::int8_t q[1];
    qkern::quantize(x, q, 1, qkern::QuantParams::make(qkern::DType::int8, 0.0f, 0));
  }
  std::printf("FAIL: no error reported\n");
  return 0;  // a handler that returned must have led to abort(): reaching here fails "returns" too
}
