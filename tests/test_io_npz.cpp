// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_io_npz.cpp: the .npz reader and writer: stored and deflated members, ZIP64 fields, names,
// and every rejected malformation of the zip structure (FileError naming the file and member).
#include "arch_test_util.hpp"
#include "io_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern::io;
using namespace qkern_test;

const std::vector<float> kA = {1, 2, 3, 4, 5, 6};
const std::vector<std::int32_t> kB = {-7, 8, 9};

std::vector<TensorRef> two_tensors() {
  return {TensorRef{"layer.a", ElementType::f32, {2, 3}, kA.data()}, TensorRef{"b", ElementType::i32, {3}, kB.data()}};
}

void expect_two(const TensorFile& f) {
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.format(), FileFormat::npz);
  EXPECT_EQ(f.tensors()[0].name, "layer.a");
  EXPECT_EQ(f.tensors()[1].name, "b");
  EXPECT_EQ(f.at("layer.a").shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(f.at("layer.a").to_float32(), kA);
  EXPECT_EQ(f.at("b").to_float32(), (std::vector<float>{-7, 8, 9}));
  EXPECT_EQ(f.at("b").dtype, ElementType::i32);
}

TEST(Npz, StoredRoundTripThroughAFile) {
  TempDir dir;
  write_npz(dir.path("x.npz"), two_tensors());
  expect_two(TensorFile::open(dir.path("x.npz")));
}

TEST(Npz, Zip64FieldsAsNumpyWritesThem) {
  const std::string z = io::detail::npz_image(two_tensors(), false, true);
  expect_two(TensorFile::parse(z.data(), z.size(), "z.npz"));
}

TEST(Npz, EmptyArchive) {
  const std::string z = io::detail::npz_image({}, false);
  EXPECT_TRUE(TensorFile::parse(z.data(), z.size(), "e.npz").tensors().empty());
}

#if defined(QKERN_HAVE_ZLIB)
TEST(Npz, CompressedRoundTrip) {
  TempDir dir;
  std::vector<float> big(10000, 0.5f);
  std::vector<TensorRef> ts = two_tensors();
  ts.push_back(TensorRef{"big", ElementType::f32, {100, 100}, big.data()});
  write_npz(dir.path("c.npz"), ts, true);
  EXPECT_LT(read_bytes(dir.path("c.npz")).size(), 4000u);
  const TensorFile f = TensorFile::open(dir.path("c.npz"));
  EXPECT_EQ(f.at("big").to_float32(), big);
  EXPECT_EQ(f.at("layer.a").to_float32(), kA);
  const std::string z = io::detail::npz_image(ts, true, true);
  EXPECT_EQ(TensorFile::parse(z.data(), z.size(), "c64.npz").at("big").to_float32(), big);
}

TEST(NpzErrors, CorruptDeflateData) {
  std::string z = io::detail::npz_image(two_tensors(), true);
  // Member data starts after the 30-byte local header and the name "layer.a.npy".
  std::string bad = z;
  for (std::size_t i = 30 + 11; i < 30 + 11 + 8; ++i) bad[i] = static_cast<char>(0xff);
  EXPECT_TRUE(rejects(bad, "c.npz", "layer.a", "corrupt deflate data"));
  // CRC mismatch: flip the CRC in both headers.
  std::string crc = z;
  crc[14] ^= 1;
  const std::size_t cd = z.rfind(std::string("PK\x01\x02", 4), z.rfind(std::string("PK\x01\x02", 4)) - 1);
  crc[cd + 16] ^= 1;
  EXPECT_TRUE(rejects(crc, "c.npz", "layer.a", "CRC-32 mismatch"));
}

TEST(NpzErrors, ZipBombRatioIsRejectedBeforeAllocating) {
  std::string z = io::detail::npz_image(two_tensors(), true);
  const std::size_t cd = z.rfind(std::string("PK\x01\x02", 4), z.rfind(std::string("PK\x01\x02", 4)) - 1);
  // Uncompressed size of the first member in the central directory: 0x7fffffff.
  z[cd + 24] = '\xff', z[cd + 25] = '\xff', z[cd + 26] = '\xff', z[cd + 27] = '\x7f';
  z[22] = '\xff', z[23] = '\xff', z[24] = '\xff', z[25] = '\x7f';
  EXPECT_TRUE(rejects(z, "c.npz", "layer.a", "maximum ratio"));
}
#else
TEST(NpzErrors, DeflatedMemberWithoutZlibNamesTheMember) {
  // A hand-made archive: flip a stored member's method to 8 in both headers.
  std::string z = io::detail::npz_image(two_tensors(), false);
  z[8] = 8;
  const std::size_t cd = z.rfind(std::string("PK\x01\x02", 4), z.rfind(std::string("PK\x01\x02", 4)) - 1);
  z[cd + 10] = 8;
  EXPECT_TRUE(rejects(z, "c.npz", "layer.a", "QKERN_HAVE_ZLIB"));
  EXPECT_THROW(write_npz("/tmp/never.npz", two_tensors(), true), InvalidArgument);
}
#endif

TEST(NpzErrors, DirectoryProblems) {
  const std::string z = io::detail::npz_image(two_tensors(), false);
  const std::string file = "d.npz";
  EXPECT_TRUE(rejects(z.substr(0, z.size() - 5), file, "", "end of central directory record not found"));
  EXPECT_TRUE(rejects(std::string("PK\x05\x06", 4) + std::string(10, '\0'), file, "", "truncated zip"));
  const std::size_t eocd = z.size() - 22;
  std::string cd_out = z;
  cd_out[eocd + 16] = '\x7f';  // central directory offset beyond the file
  EXPECT_TRUE(rejects(cd_out, file, "", "outside the file"));
  std::string count = z;
  count[eocd + 10] = 50;
  count[eocd + 8] = 50;
  EXPECT_TRUE(rejects(count, file, "", "too small for its entry count"));
  std::string disk = z;
  disk[eocd + 4] = 1;
  EXPECT_TRUE(rejects(disk, file, "", "multi-disk"));
  const std::size_t cd = z.find(std::string("PK\x01\x02", 4));
  std::string sig = z;
  sig[cd + 2] = 9;
  EXPECT_TRUE(rejects(sig, file, "", "corrupt zip central directory entry 0"));
  std::string name_len = z;
  name_len[cd + 28] = '\x70';
  EXPECT_TRUE(rejects(name_len, file, "", "overruns the directory"));
}

TEST(NpzErrors, MemberProblemsNameTheMember) {
  const std::string z = io::detail::npz_image(two_tensors(), false);
  const std::string file = "m.npz";
  const std::size_t cd0 = z.find(std::string("PK\x01\x02", 4));
  const std::size_t cd1 = z.find(std::string("PK\x01\x02", 4), cd0 + 4);
  const std::size_t local1 = z.find(std::string("PK\x03\x04", 4), 4);
  // Second member's local header offset pointing into the first member: overlap.
  std::string overlap = z;
  overlap[cd1 + 42] = 40;
  overlap[cd1 + 43] = 0;
  EXPECT_TRUE(rejects(overlap, file, "b.npy", "overlaps member 'layer.a.npy'"));
  std::string overlap2 = z;  // both entries at offset 0: the second overlaps the first
  overlap2[cd1 + 42] = 0;
  overlap2[cd1 + 43] = 0;
  overlap2[cd1 + 44] = 0;
  overlap2[cd1 + 45] = 0;
  EXPECT_TRUE(rejects(overlap2, file, "b.npy", "overlaps"));
  // Local header offset past the central directory.
  std::string past = z;
  past[cd1 + 44] = 1;
  EXPECT_TRUE(rejects(past, file, "b.npy", "local header missing or outside the file"));
  // Local header names another member.
  std::string rename = z;
  rename[local1 + 30] = 'c';
  EXPECT_TRUE(rejects(rename, file, "b.npy", "names a different member"));
  // Size in the central directory larger than the data before the directory.
  std::string big = z;
  big[cd1 + 20] = '\x7f';
  big[cd1 + 24] = '\x7f';
  EXPECT_TRUE(rejects(big, file, "b.npy", "disagree on the sizes"));
  // Method disagreement and unsupported method.
  std::string meth = z;
  meth[cd1 + 10] = 12;
  EXPECT_TRUE(rejects(meth, file, "b.npy", "disagree on the method"));
  std::string meth2 = meth;
  meth2[local1 + 8] = 12;
  EXPECT_TRUE(rejects(meth2, file, "b", "unsupported zip compression method 12"));
  // Encrypted.
  std::string enc = z;
  enc[cd1 + 8] = 1;
  EXPECT_TRUE(rejects(enc, file, "b", "encrypted"));
  // Not a .npy member name.
  TempDir dir;
  std::string other = z;
  other[cd0 + 46 + 8] = 'x';  // "layer.a.xpy" in the central directory...
  other[30 + 8] = 'x';        // ...and in the local header
  EXPECT_TRUE(rejects(other, file, "layer.a.xpy", "not a .npy file"));
  // A bad .npy inside a member names the tensor key.
  std::string npy = z;
  npy[30 + 11 + 6] = 7;  // version byte of the first member's .npy
  EXPECT_TRUE(rejects(npy, file, "layer.a", "unsupported .npy format version 7.0"));
}

TEST(NpzErrors, DuplicateNamesAndBf16AreRejectedByTheWriter) {
  std::vector<TensorRef> ts = two_tensors();
  ts.push_back(ts[0]);
  EXPECT_THROW(io::detail::npz_image(ts, false), InvalidArgument);
  const std::uint16_t h = 0x3f80;
  EXPECT_THROW(io::detail::npz_image({TensorRef{"h", ElementType::bf16, {1}, &h}}, false), InvalidArgument);
}

}  // namespace
