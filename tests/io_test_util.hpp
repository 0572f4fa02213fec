// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// io_test_util.hpp: helpers for the tensor file tests: raw .npy images built from header text,
// temporary files, and expectations on FileError (file, key and message).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "qkern/io.hpp"

namespace qkern_test {

/// A .npy image: magic, version major.0, the header text padded with spaces + '\n' to a multiple of
/// 64 bytes (unless raw_header), then `data`.
inline std::string npy_bytes(int major, const std::string& dict, const std::string& data, bool raw_header = false) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::string header = dict;
  if (!raw_header) {
    const std::size_t total = prefix + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
  }
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t h = header.size();
  out += static_cast<char>(h & 0xff);
  out += static_cast<char>((h >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((h >> 16) & 0xff);
    out += static_cast<char>((h >> 24) & 0xff);
  }
  return out + header + data;
}

template <class T>
std::string raw_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// A per-test scratch directory, removed with its files at the end.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qkern_io_XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (d == nullptr) std::abort();
    dir_ = d;
  }
  ~TempDir() { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream f(path(name), std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path(name);
  }

 private:
  std::string dir_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// Parses `bytes` as file `file` and expects a FileError naming file and key whose message contains
/// `needle`.
inline ::testing::AssertionResult rejects(const std::string& bytes, const std::string& file, const std::string& key,
                                          const std::string& needle) {
  try {
    qkern::io::TensorFile::parse(bytes.data(), bytes.size(), file);
  } catch (const qkern::io::FileError& e) {
    const std::string what = e.what();
    if (e.file() != file) return ::testing::AssertionFailure() << "file() is '" << e.file() << "': " << what;
    if (e.key() != key)
      return ::testing::AssertionFailure() << "key() is '" << e.key() << "' not '" << key << "': " << what;
    if (what.find(needle) == std::string::npos)
      return ::testing::AssertionFailure() << "message lacks '" << needle << "': " << what;
    if (what.find(file) == std::string::npos)
      return ::testing::AssertionFailure() << "message lacks the file: " << what;
    if (!key.empty() && what.find("'" + key + "'") == std::string::npos)
      return ::testing::AssertionFailure() << "message lacks the key: " << what;
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "accepted";
}

}  // namespace qkern_test
