// qkern — SPDX-License-Identifier: Apache-2.0
//
// io/npz.hpp: NumPy .npz archives: a ZIP file whose members are .npy images named "<key>.npy", as
// np.savez (stored) and np.savez_compressed (deflate) write them, including the ZIP64 extra fields
// numpy always writes (zipfile.open(..., force_zip64=True)) and ZIP64 end records for big archives.
//
// Reading: the end of central directory record (and its ZIP64 form) locates the central directory;
// each entry's local header is checked against it (signature, name, method, sizes when present,
// not encrypted); member data must lie inside the file, before the central directory, and members
// must not overlap. Stored members are zero-copy views of the mapping; deflated members are inflated
// into buffers owned by the TensorFile, which needs zlib: define QKERN_HAVE_ZLIB (and link zlib),
// otherwise a deflated member is a FileError naming the file and the member. Inflated members are
// checked against the declared size and CRC-32 (stored members are not checksummed: like a plain
// .npy their bytes are used as they are). A declared size beyond deflate's maximum ratio (1032:1) is
// rejected before anything is allocated (zip bombs). Every member must be a "<key>.npy" (the tensor
// name is the key) and a valid .npy (io/npy.hpp).
//
// Writing: write_npz stores members (method 0) or, with compressed = true and zlib, deflates them;
// ZIP64 fields are written where sizes or offsets need them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "qkern/core/abi.hpp"
#include "qkern/io/npy.hpp"
#include "qkern/io/tensor_view.hpp"
#include "qkern/io/types.hpp"

#if defined(QKERN_HAVE_ZLIB)
#include <zlib.h>
#endif

namespace qkern {
namespace io {
inline namespace QKERN_ABI_NS {
namespace detail {

inline std::uint32_t crc32_update(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  static const auto table = [] {
    struct T {
      std::uint32_t v[256];
    } t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t.v[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (std::size_t i = 0; i < n; ++i) crc = table.v[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

inline std::uint32_t crc32_of(const void* p, std::size_t n) {
#if defined(QKERN_HAVE_ZLIB)
  std::uint32_t crc = 0;
  const unsigned char* b = static_cast<const unsigned char*>(p);
  while (n > 0) {
    const std::size_t m = std::min<std::size_t>(n, 1u << 30);
    crc = static_cast<std::uint32_t>(::crc32(crc, b, static_cast<uInt>(m)));
    b += m;
    n -= m;
  }
  return crc;
#else
  return crc32_update(0, static_cast<const unsigned char*>(p), n);
#endif
}

inline std::uint16_t le16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
inline std::uint32_t le32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
inline std::uint64_t le64(const unsigned char* p) {
  return static_cast<std::uint64_t>(le32(p)) | static_cast<std::uint64_t>(le32(p + 4)) << 32;
}

struct ZipEntry {
  std::string name;
  std::uint16_t flags = 0, method = 0;
  std::uint32_t crc = 0;
  std::uint64_t comp_size = 0, size = 0, local_offset = 0;
  std::uint64_t data_begin = 0;  // filled from the local header
};

// Reads the ZIP64 extended information extra field (id 0x0001) of a central directory entry: the
// fields whose 32-bit value is 0xffffffff follow, in order.
inline void read_zip64_extra(const unsigned char* extra, std::size_t len, ZipEntry& e, bool need_size, bool need_comp,
                             bool need_offset, const std::string& file) {
  std::size_t i = 0;
  while (i + 4 <= len) {
    const std::uint16_t id = le16(extra + i), sz = le16(extra + i + 2);
    if (i + 4 + sz > len) ::qkern::detail::raise(FileError(file, e.name, "zip extra field overruns its entry"));
    if (id == 0x0001) {
      const unsigned char* f = extra + i + 4;
      std::size_t k = 0;
      auto take = [&](std::uint64_t& out) {
        if (k + 8 > sz) ::qkern::detail::raise(FileError(file, e.name, "zip64 extra field too short"));
        out = le64(f + k);
        k += 8;
      };
      if (need_size) take(e.size);
      if (need_comp) take(e.comp_size);
      if (need_offset) take(e.local_offset);
      return;
    }
    i += 4 + static_cast<std::size_t>(sz);
  }
  if (need_size || need_comp || need_offset)
    ::qkern::detail::raise(FileError(file, e.name, "zip64 sizes announced but no zip64 extra field"));
}

inline std::vector<ZipEntry> read_zip_directory(const unsigned char* p, std::size_t size, const std::string& file) {
  if (size < 22)
    ::qkern::detail::raise(FileError(file, "", "truncated zip archive (no end of central directory record)"));
  // End of central directory: the last 0x06054b50 record whose comment ends exactly at the file end.
  std::size_t eocd = static_cast<std::size_t>(-1);
  const std::size_t lowest = size - 22 > 65535 ? size - 22 - 65535 : 0;
  for (std::size_t at = size - 22 + 1; at-- > lowest;) {
    if (le32(p + at) == 0x06054b50u && at + 22 + le16(p + at + 20) == size) {
      eocd = at;
      break;
    }
  }
  if (eocd == static_cast<std::size_t>(-1))
    ::qkern::detail::raise(FileError(file, "", "not a valid zip archive: end of central directory record not found"));
  const unsigned char* r = p + eocd;
  if (le16(r + 4) != 0 || le16(r + 6) != 0)
    ::qkern::detail::raise(FileError(file, "", "multi-disk zip archives are not supported"));
  std::uint64_t entries = le16(r + 10), cd_size = le32(r + 12), cd_offset = le32(r + 16);
  if (le16(r + 8) != le16(r + 10)) ::qkern::detail::raise(FileError(file, "", "zip entry counts disagree"));
  std::uint64_t cd_limit = eocd;  // the central directory ends before this
  if (entries == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    // ZIP64: locator (20 bytes) right before the EOCD, pointing at the ZIP64 EOCD record.
    if (eocd < 20 || le32(p + eocd - 20) != 0x07064b50u)
      ::qkern::detail::raise(FileError(file, "", "zip64 end of central directory locator missing"));
    const std::uint64_t z = le64(p + eocd - 20 + 8);
    if (z > eocd - 20 || eocd - 20 - z < 56 || le32(p + z) != 0x06064b50u)
      ::qkern::detail::raise(FileError(file, "", "zip64 end of central directory record missing or outside the file"));
    const unsigned char* q = p + z;
    if (le32(q + 16) != 0 || le32(q + 20) != 0)
      ::qkern::detail::raise(FileError(file, "", "multi-disk zip archives are not supported"));
    entries = le64(q + 32);
    if (le64(q + 24) != entries) ::qkern::detail::raise(FileError(file, "", "zip entry counts disagree"));
    cd_size = le64(q + 40);
    cd_offset = le64(q + 48);
    cd_limit = z;
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset)
    ::qkern::detail::raise(FileError(file, "", "zip central directory lies outside the file"));
  if (entries > cd_size / 46)
    ::qkern::detail::raise(FileError(file, "", "zip central directory too small for its entry count"));
  std::vector<ZipEntry> out;
  out.reserve(static_cast<std::size_t>(entries));
  std::size_t at = static_cast<std::size_t>(cd_offset);
  const std::size_t cd_end = static_cast<std::size_t>(cd_offset + cd_size);
  for (std::uint64_t i = 0; i < entries; ++i) {
    if (cd_end - at < 46 || le32(p + at) != 0x02014b50u)
      ::qkern::detail::raise(FileError(file, "", "corrupt zip central directory entry " + std::to_string(i)));
    const unsigned char* c = p + at;
    ZipEntry e;
    e.flags = le16(c + 8);
    e.method = le16(c + 10);
    e.crc = le32(c + 16);
    e.comp_size = le32(c + 20);
    e.size = le32(c + 24);
    const std::size_t name_len = le16(c + 28), extra_len = le16(c + 30), comment_len = le16(c + 32);
    e.local_offset = le32(c + 42);
    if (cd_end - at - 46 < name_len + extra_len + comment_len)
      ::qkern::detail::raise(FileError(
          file, "", "corrupt zip central directory entry " + std::to_string(i) + " (overruns the directory)"));
    e.name.assign(reinterpret_cast<const char*>(c + 46), name_len);
    const bool need_size = e.size == 0xffffffffu, need_comp = e.comp_size == 0xffffffffu,
               need_offset = e.local_offset == 0xffffffffu;
    read_zip64_extra(c + 46 + name_len, extra_len, e, need_size, need_comp, need_offset, file);
    at += 46 + name_len + extra_len + comment_len;
    out.push_back(std::move(e));
  }
  // Local headers and member data: inside [0, cd_offset), in order, not overlapping.
  std::vector<ZipEntry*> by_offset;
  for (auto& e : out) by_offset.push_back(&e);
  std::stable_sort(by_offset.begin(), by_offset.end(),
                   [](const ZipEntry* a, const ZipEntry* b) { return a->local_offset < b->local_offset; });
  std::uint64_t free_from = 0;
  std::string prev;
  for (ZipEntry* e : by_offset) {
    const std::uint64_t lo = e->local_offset;
    if (lo < free_from) ::qkern::detail::raise(FileError(file, e->name, "zip member overlaps member '" + prev + "'"));
    if (lo > cd_offset || cd_offset - lo < 30 || le32(p + lo) != 0x04034b50u)
      ::qkern::detail::raise(FileError(file, e->name, "zip local header missing or outside the file"));
    const unsigned char* l = p + lo;
    const std::size_t name_len = le16(l + 26), extra_len = le16(l + 28);
    if (cd_offset - lo - 30 < name_len + extra_len)
      ::qkern::detail::raise(FileError(file, e->name, "zip local header overruns the file"));
    if (std::string(reinterpret_cast<const char*>(l + 30), name_len) != e->name)
      ::qkern::detail::raise(FileError(file, e->name, "zip local header names a different member"));
    if (le16(l + 8) != e->method)
      ::qkern::detail::raise(FileError(file, e->name, "zip local header and central directory disagree on the method"));
    const std::uint32_t lcomp = le32(l + 18), lsize = le32(l + 22);
    if (!(le16(l + 6) & 0x8) && lcomp != 0xffffffffu && (lcomp != e->comp_size || lsize != e->size))
      ::qkern::detail::raise(FileError(file, e->name, "zip local header and central directory disagree on the sizes"));
    e->data_begin = lo + 30 + name_len + extra_len;
    if (e->data_begin > cd_offset || e->comp_size > cd_offset - e->data_begin)
      ::qkern::detail::raise(FileError(file, e->name, "zip member data extends past the central directory"));
    free_from = e->data_begin + e->comp_size;
    prev = e->name;
  }
  return out;
}

/// Reads the members of the .npz image p[0, size) in central directory order: alloc(bytes) returns an
/// owned buffer (for inflated members), add(TensorView) receives each tensor.
template <class Alloc, class Add>
void read_npz(const unsigned char* p, std::size_t size, const std::string& file, Alloc&& alloc, Add&& add) {
  const std::vector<ZipEntry> entries = read_zip_directory(p, size, file);
  for (const ZipEntry& e : entries) {
    if (e.name.size() < 5 || e.name.compare(e.name.size() - 4, 4, ".npy") != 0)
      ::qkern::detail::raise(FileError(file, e.name, "zip member is not a .npy file (name must end in .npy)"));
    const std::string key = e.name.substr(0, e.name.size() - 4);
    if (e.flags & 0x1) ::qkern::detail::raise(FileError(file, key, "zip member is encrypted"));
    const unsigned char* data = p + e.data_begin;
    if (e.method == 0) {
      if (e.comp_size != e.size)
        ::qkern::detail::raise(FileError(file, key, "stored zip member: compressed and uncompressed sizes differ"));
      add(parse_npy(data, static_cast<std::size_t>(e.size), file, key));
    } else if (e.method == 8) {
#if defined(QKERN_HAVE_ZLIB)
      if (e.size > e.comp_size * 1032 + 1024)
        ::qkern::detail::raise(FileError(file, key,
                                         "deflated zip member declares " + std::to_string(e.size) + " bytes from " +
                                             std::to_string(e.comp_size) + " (beyond deflate's maximum ratio)"));
      const std::size_t out_size = static_cast<std::size_t>(e.size);
      unsigned char* out = reinterpret_cast<unsigned char*>(alloc(out_size));
      z_stream zs{};
      if (inflateInit2(&zs, -15) != Z_OK) ::qkern::detail::raise(FileError(file, key, "zlib inflateInit2 failed"));
      std::uint64_t in_left = e.comp_size, out_done = 0;
      const unsigned char* in = data;
      int rc = Z_OK;
      unsigned char spare = 0;
      while (rc == Z_OK) {
        // All remaining input and all remaining room are offered each time, so Z_BUF_ERROR (no
        // progress possible) means the input ended early; once the declared size is reached, one
        // spare byte detects output beyond it.
        const uInt in_chunk = static_cast<uInt>(std::min<std::uint64_t>(in_left, 1u << 30));
        zs.next_in = const_cast<Bytef*>(in);
        zs.avail_in = in_chunk;
        const bool room = out_done < out_size;
        const uInt out_chunk = room ? static_cast<uInt>(std::min<std::uint64_t>(out_size - out_done, 1u << 30)) : 1;
        zs.next_out = room ? out + out_done : &spare;
        zs.avail_out = out_chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        in += in_chunk - zs.avail_in;
        in_left -= in_chunk - zs.avail_in;
        if (room)
          out_done += out_chunk - zs.avail_out;
        else if (zs.avail_out == 0)
          rc = Z_DATA_ERROR;  // more output than declared
      }
      if (rc == Z_STREAM_END && in_left != 0) rc = Z_DATA_ERROR;  // bytes after the end of the stream
      inflateEnd(&zs);
      if (rc != Z_STREAM_END || out_done != out_size)
        ::qkern::detail::raise(FileError(file, key,
                                         "corrupt deflate data (inflated " + std::to_string(out_done) + " of " +
                                             std::to_string(out_size) + " declared bytes)"));
      if (crc32_of(out, out_size) != e.crc)
        ::qkern::detail::raise(FileError(file, key, "CRC-32 mismatch in deflated zip member"));
      add(parse_npy(out, out_size, file, key));
#else
      (void)alloc;
      ::qkern::detail::raise(
          FileError(file, key,
                    "zip member is deflate-compressed (np.savez_compressed) and this build has no zlib: define "
                    "QKERN_HAVE_ZLIB and link zlib, or save with np.savez"));
#endif
    } else {
      ::qkern::detail::raise(FileError(file, key, "unsupported zip compression method " + std::to_string(e.method)));
    }
  }
}

inline void put16(std::string& s, std::uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
inline void put32(std::string& s, std::uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}
inline void put64(std::string& s, std::uint64_t v) {
  put32(s, static_cast<std::uint32_t>(v));
  put32(s, static_cast<std::uint32_t>(v >> 32));
}

#if defined(QKERN_HAVE_ZLIB)
inline std::string deflate_raw(const std::string& in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    ::qkern::detail::raise(std::runtime_error("qkern: zlib deflateInit2 failed"));
  std::string out;
  std::size_t done_in = 0;
  int rc = Z_OK;
  unsigned char buf[1 << 16];
  while (rc != Z_STREAM_END) {
    const std::size_t chunk = std::min<std::size_t>(in.size() - done_in, 1u << 30);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + done_in));
    zs.avail_in = static_cast<uInt>(chunk);
    const bool last = done_in + chunk == in.size();
    do {
      zs.next_out = buf;
      zs.avail_out = sizeof buf;
      rc = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
      out.append(reinterpret_cast<char*>(buf), sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0 || (last && rc != Z_STREAM_END));
    done_in += chunk - zs.avail_in;
  }
  deflateEnd(&zs);
  return out;
}
#endif

/// The .npz image of ts. force_zip64 writes ZIP64 fields for every member and the end records as if
/// the archive were big (tests use it; numpy's writer also puts ZIP64 extras in local headers).
inline std::string npz_image(const std::vector<TensorRef>& ts, bool compressed, bool force_zip64 = false) {
#if !defined(QKERN_HAVE_ZLIB)
  if (compressed)
    ::qkern::detail::raise(
        InvalidArgument("compressed", "writing a compressed .npz needs zlib (define QKERN_HAVE_ZLIB)"));
#endif
  for (std::size_t i = 0; i < ts.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (ts[j].name == ts[i].name)
        ::qkern::detail::raise(InvalidArgument("ts", "duplicate tensor name '" + ts[i].name + "'"));
  std::string zip, central;
  for (const TensorRef& t : ts) {
    if (t.name.empty()) ::qkern::detail::raise(InvalidArgument("ts", "a tensor has an empty name"));
    const std::string npy = npy_image(t, "ts");
    std::string payload;
#if defined(QKERN_HAVE_ZLIB)
    payload = compressed ? deflate_raw(npy) : npy;
#else
    payload = npy;
#endif
    const std::string name = t.name + ".npy";
    const std::uint32_t crc = crc32_of(npy.data(), npy.size());
    const std::uint64_t offset = zip.size();
    const bool z64_sizes = force_zip64 || npy.size() >= 0xffffffffu || payload.size() >= 0xffffffffu;
    const bool z64_offset = force_zip64 || offset >= 0xffffffffu;
    bool utf8 = false;
    for (char c : name) utf8 = utf8 || static_cast<unsigned char>(c) >= 0x80;
    const std::uint16_t flags = utf8 ? 0x0800 : 0;
    const std::uint16_t method = compressed ? 8 : 0;
    const std::uint16_t version = (z64_sizes || z64_offset) ? 45 : 20;
    // Local header.
    put32(zip, 0x04034b50u);
    put16(zip, version);
    put16(zip, flags);
    put16(zip, method);
    put16(zip, 0);       // time 00:00:00
    put16(zip, 0x0021);  // date 1980-01-01
    put32(zip, crc);
    put32(zip, z64_sizes ? 0xffffffffu : static_cast<std::uint32_t>(payload.size()));
    put32(zip, z64_sizes ? 0xffffffffu : static_cast<std::uint32_t>(npy.size()));
    put16(zip, static_cast<std::uint32_t>(name.size()));
    put16(zip, z64_sizes ? 20 : 0);
    zip += name;
    if (z64_sizes) {
      put16(zip, 0x0001);
      put16(zip, 16);
      put64(zip, npy.size());
      put64(zip, payload.size());
    }
    zip += payload;
    // Central directory entry.
    std::string extra;
    if (z64_sizes) {
      put64(extra, npy.size());
      put64(extra, payload.size());
    }
    if (z64_offset) put64(extra, offset);
    put32(central, 0x02014b50u);
    put16(central, 0x0300 | version);  // made by: UNIX
    put16(central, version);
    put16(central, flags);
    put16(central, method);
    put16(central, 0);
    put16(central, 0x0021);
    put32(central, crc);
    put32(central, z64_sizes ? 0xffffffffu : static_cast<std::uint32_t>(payload.size()));
    put32(central, z64_sizes ? 0xffffffffu : static_cast<std::uint32_t>(npy.size()));
    put16(central, static_cast<std::uint32_t>(name.size()));
    put16(central, extra.empty() ? 0 : static_cast<std::uint32_t>(extra.size() + 4));
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
    put32(central, 0100644u << 16);
    put32(central, z64_offset ? 0xffffffffu : static_cast<std::uint32_t>(offset));
    central += name;
    if (!extra.empty()) {
      put16(central, 0x0001);
      put16(central, static_cast<std::uint32_t>(extra.size()));
      central += extra;
    }
  }
  const std::uint64_t cd_offset = zip.size(), cd_size = central.size(), n = ts.size();
  zip += central;
  const bool z64_end = force_zip64 || n >= 0xffff || cd_offset >= 0xffffffffu || cd_size >= 0xffffffffu;
  if (z64_end) {
    const std::uint64_t z = zip.size();
    put32(zip, 0x06064b50u);
    put64(zip, 44);
    put16(zip, 0x032d);
    put16(zip, 45);
    put32(zip, 0);
    put32(zip, 0);
    put64(zip, n);
    put64(zip, n);
    put64(zip, cd_size);
    put64(zip, cd_offset);
    put32(zip, 0x07064b50u);
    put32(zip, 0);
    put64(zip, z);
    put32(zip, 1);
  }
  put32(zip, 0x06054b50u);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, z64_end ? 0xffff : static_cast<std::uint32_t>(n));
  put16(zip, z64_end ? 0xffff : static_cast<std::uint32_t>(n));
  put32(zip, z64_end ? 0xffffffffu : static_cast<std::uint32_t>(cd_size));
  put32(zip, z64_end ? 0xffffffffu : static_cast<std::uint32_t>(cd_offset));
  put16(zip, 0);
  return zip;
}

}  // namespace detail

/// Writes `ts` as an .npz archive (members "<name>.npy", format 1.0, C order): stored, or deflated when
/// `compressed` (needs QKERN_HAVE_ZLIB, else InvalidArgument naming "compressed"). bf16 tensors are
/// rejected (no numpy dtype).
inline void write_npz(const std::string& path, const std::vector<TensorRef>& ts, bool compressed = false) {
  detail::write_file(path, detail::npz_image(ts, compressed));
}

}  // namespace QKERN_ABI_NS
}  // namespace io
}  // namespace qkern
