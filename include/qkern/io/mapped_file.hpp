// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/mapped_file.hpp: a read-only view of a whole file: memory-mapped on POSIX systems (mmap,
// MAP_PRIVATE), read into a buffer elsewhere. Move-only. The mapping reflects the file as it is:
// truncating a mapped file from another process while it is open is outside the contract (POSIX
// raises SIGBUS on access to pages past the new end).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "qkern/core/abi.hpp"
#include "qkern/io/types.hpp"

#if defined(__unix__) || defined(__APPLE__)
#define QKERN_IO_HAVE_MMAP 1
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace qkern {
namespace io {
inline namespace QKERN_ABI_NS {

class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& o) noexcept { swap(o); }
  MappedFile& operator=(MappedFile&& o) noexcept {
    MappedFile t(std::move(o));
    swap(t);
    return *this;
  }
  ~MappedFile() { release(); }

  /// Maps (or reads) `path`. Throws FileError naming the file when it cannot be opened or read.
  static MappedFile open(const std::string& path) {
    MappedFile m;
#if defined(QKERN_IO_HAVE_MMAP)
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) ::qkern::detail::raise(FileError(path, "", std::string("cannot open: ") + std::strerror(errno)));
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      ::qkern::detail::raise(FileError(path, "", std::string("cannot stat: ") + std::strerror(e)));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      ::qkern::detail::raise(FileError(path, "", "not a regular file"));
    }
    const std::size_t size = static_cast<std::size_t>(st.st_size);
    if (size > 0) {
      void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        const int e = errno;
        ::close(fd);
        ::qkern::detail::raise(FileError(path, "", std::string("cannot map: ") + std::strerror(e)));
      }
      m.data_ = static_cast<const std::byte*>(p);
      m.mapped_ = true;
    }
    m.size_ = size;
    ::close(fd);
#else
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    if (!f) ::qkern::detail::raise(FileError(path, "", "cannot open"));
    const std::streamoff size = f.tellg();
    if (size < 0) ::qkern::detail::raise(FileError(path, "", "cannot determine the size"));
    m.buffer_.reset(new std::byte[static_cast<std::size_t>(size) + 1]);
    f.seekg(0);
    if (size > 0 && !f.read(reinterpret_cast<char*>(m.buffer_.get()), size))
      ::qkern::detail::raise(FileError(path, "", "read failed"));
    m.data_ = m.buffer_.get();
    m.size_ = static_cast<std::size_t>(size);
#endif
    return m;
  }

  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void swap(MappedFile& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    std::swap(mapped_, o.mapped_);
    std::swap(buffer_, o.buffer_);
  }
  void release() {
#if defined(QKERN_IO_HAVE_MMAP)
    if (mapped_ && data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
#endif
    data_ = nullptr;
    size_ = 0;
    mapped_ = false;
    buffer_.reset();
  }

  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::unique_ptr<std::byte[]> buffer_;
};

}  // namespace QKERN_ABI_NS
}  // namespace io
}  // namespace qkern
