// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/tensor_file.hpp: TensorFile, an open .npy, .npz or safetensors file (detected by content, not by
// name) exposing its tensors as zero-copy TensorViews. The file is memory-mapped where the OS allows
// (io/mapped_file.hpp); .npz members stored deflated are inflated into buffers the TensorFile owns.
// Nothing else is copied: a view's data may be unaligned for its element type (stored .npz members
// and safetensors offsets carry no alignment); as_float32() is then null and to_float32() (which
// reads any alignment) converts.
//
// Every problem is a FileError naming the file, the tensor (when one is concerned) and what is
// wrong; no reader ever reads outside the file or returns a partially read tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/io/mapped_file.hpp"
#include "qkern/io/npy.hpp"
#include "qkern/io/npz.hpp"
#include "qkern/io/safetensors.hpp"
#include "qkern/io/tensor_view.hpp"
#include "qkern/io/types.hpp"

namespace qkern {
namespace io {
inline namespace QKERN_ABI_NS {

/// Container formats TensorFile recognises.
enum class FileFormat { npy, npz, safetensors };

namespace detail {

// The file stem of a path: "dir/conv1.npy" -> "conv1".
inline std::string path_stem(const std::string& path) {
  const std::size_t slash = path.find_last_of("/\\");
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::size_t dot = base.find_last_of('.');
  if (dot != std::string::npos && dot != 0) base.erase(dot);
  return base;
}

inline FileFormat detect_format(const unsigned char* p, std::size_t size, const std::string& file) {
  if (size >= 6 && std::memcmp(p, "\x93NUMPY", 6) == 0) return FileFormat::npy;
  if (size >= 4 && p[0] == 'P' && p[1] == 'K' && ((p[2] == 3 && p[3] == 4) || (p[2] == 5 && p[3] == 6)))
    return FileFormat::npz;
  // safetensors: an 8-byte little-endian header size; anything below 2^40 is taken as one (the
  // safetensors reader then reports precisely what is wrong).
  if (size >= 8 && p[5] == 0 && p[6] == 0 && p[7] == 0) return FileFormat::safetensors;
  ::qkern::detail::raise(FileError(file, "", "unrecognised tensor file format (expected .npy, .npz or safetensors)"));
}

}  // namespace detail

class TensorFile {
 public:
  TensorFile(TensorFile&&) noexcept = default;
  TensorFile& operator=(TensorFile&&) noexcept = default;
  TensorFile(const TensorFile&) = delete;
  TensorFile& operator=(const TensorFile&) = delete;

  /// Opens and validates `path` (.npy / .npz / safetensors, detected by content).
  static TensorFile open(const std::string& path) {
    TensorFile f;
    f.path_ = path;
    f.storage_->map = MappedFile::open(path);
    f.load(f.storage_->map.data(), f.storage_->map.size());
    return f;
  }

  /// Parses an image of a tensor file held in memory (the same parsers open() uses). The views point
  /// into `data`, which must outlive the TensorFile; `path` names it in errors and gives a .npy its
  /// tensor name (the stem).
  static TensorFile parse(const void* data, std::size_t size, const std::string& path) {
    TensorFile f;
    f.path_ = path;
    f.load(static_cast<const std::byte*>(data), size);
    return f;
  }

  const std::string& path() const { return path_; }
  FileFormat format() const { return format_; }
  /// Tensors in file order (.npz: central directory order; safetensors: ascending data offset).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// The tensor named `name`; throws FileError naming the file and the key when there is none.
  const TensorView& at(const std::string& name) const {
    const auto it = index_.find(name);
    if (it == index_.end()) ::qkern::detail::raise(FileError(path_, name, "no such tensor in the file"));
    return tensors_[it->second];
  }
  /// safetensors "__metadata__" (empty for other formats).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  struct Storage {
    MappedFile map;
    std::vector<std::unique_ptr<std::uint64_t[]>> owned;  // inflated .npz members (8-byte aligned)
  };

  TensorFile() : storage_(new Storage) {}

  std::byte* own(std::size_t bytes) {
    storage_->owned.emplace_back(new std::uint64_t[bytes / 8 + 1]);
    return reinterpret_cast<std::byte*>(storage_->owned.back().get());
  }

  void add(TensorView v) {
    if (index_.count(v.name) != 0) ::qkern::detail::raise(FileError(path_, v.name, "duplicate tensor name"));
    index_.emplace(v.name, tensors_.size());
    tensors_.push_back(std::move(v));
  }

  void load(const std::byte* data, std::size_t size) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data);
    format_ = detail::detect_format(p, size, path_);
    switch (format_) {
      case FileFormat::npy:
        add(parse_npy(p, size, path_, detail::path_stem(path_)));
        break;
      case FileFormat::npz:
        detail::read_npz(
            p, size, path_, [this](std::size_t bytes) { return own(bytes); },
            [this](TensorView v) { add(std::move(v)); });
        break;
      case FileFormat::safetensors: {
        detail::SafetensorsContents c = detail::read_safetensors(p, size, path_);
        metadata_ = std::move(c.metadata);
        for (auto& v : c.tensors) add(std::move(v));
        break;
      }
    }
  }

  std::string path_;
  FileFormat format_ = FileFormat::npy;
  std::unique_ptr<Storage> storage_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace QKERN_ABI_NS
}  // namespace io
}  // namespace qkern
