// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_io_npy.cpp: the .npy reader and writer: every dtype, versions 1.0/2.0/3.0, both byte orders,
// C and Fortran order, rank 0 and empty tensors, and every rejected malformation (FileError naming
// the file and the tensor).
#include "arch_test_util.hpp"
#include "io_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern::io;
using namespace qkern_test;

const std::string kF4x6 = raw_bytes(std::vector<float>{1, 2, 3, 4, 5, 6});

TEST(Npy, ReadsVersion1COrderFloat32ZeroCopy) {
  const std::string b = npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", kF4x6);
  const TensorFile f = TensorFile::parse(b.data(), b.size(), "dir/act.conv1.npy");
  ASSERT_EQ(f.tensors().size(), 1u);
  const TensorView& t = f.at("act.conv1");
  EXPECT_EQ(t.dtype, ElementType::f32);
  EXPECT_EQ(t.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_FALSE(t.byte_swapped);
  ASSERT_NE(t.as_float32(), nullptr);
  EXPECT_EQ(reinterpret_cast<const char*>(t.as_float32()), b.data() + b.size() - kF4x6.size());  // zero copy
  EXPECT_EQ(t.to_float32(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(f.format(), FileFormat::npy);
}

TEST(Npy, Versions2And3AndAnyKeyOrderAndQuotes) {
  for (int major : {2, 3}) {
    const std::string b = npy_bytes(major, "{\"shape\": (6,), 'descr': '<f4', 'fortran_order': False}", kF4x6);
    const TensorFile f = TensorFile::parse(b.data(), b.size(), "x.npy");
    EXPECT_EQ(f.at("x").to_float32(), (std::vector<float>{1, 2, 3, 4, 5, 6})) << major;
  }
}

TEST(Npy, FortranOrderIsTransposedOnConversion) {
  // Logical 2x3 [[1,2,3],[4,5,6]] stored column-major: 1 4 2 5 3 6.
  const std::string b = npy_bytes(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                  raw_bytes(std::vector<float>{1, 4, 2, 5, 3, 6}));
  const TensorFile f = TensorFile::parse(b.data(), b.size(), "f.npy");
  const TensorView& t = f.at("f");
  EXPECT_TRUE(t.fortran_order);
  EXPECT_EQ(t.as_float32(), nullptr);
  EXPECT_EQ(t.to_float32(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // Rank 3, shape (2, 3, 4): element (i, j, k) stored at i + 2 j + 6 k.
  std::vector<std::int16_t> stored(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        stored[static_cast<std::size_t>(i + 2 * j + 6 * k)] = static_cast<std::int16_t>(100 * i + 10 * j + k);
  const std::string b3 =
      npy_bytes(1, "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3, 4), }", raw_bytes(stored));
  const auto v = TensorFile::parse(b3.data(), b3.size(), "g.npy").at("g").to_float32();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(v[static_cast<std::size_t>(12 * i + 4 * j + k)], 100 * i + 10 * j + k);
}

TEST(Npy, BigEndianIsSwappedOnConversion) {
  std::string be;
  for (float x : {1.5f, -2.0f, 3.25f}) {
    const std::uint32_t u = bits_of(x);
    for (int s = 24; s >= 0; s -= 8) be += static_cast<char>((u >> s) & 0xff);
  }
  const std::string b = npy_bytes(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }", be);
  const TensorFile f = TensorFile::parse(b.data(), b.size(), "b.npy");
  EXPECT_TRUE(f.at("b").byte_swapped);
  EXPECT_EQ(f.at("b").as_float32(), nullptr);
  EXPECT_EQ(f.at("b").to_float32(), (std::vector<float>{1.5f, -2.0f, 3.25f}));
  // Big-endian f16 (0x3c00 = 1, 0xc000 = -2) and int64.
  const std::string h =
      npy_bytes(1, "{'descr': '>f2', 'fortran_order': False, 'shape': (2,), }", std::string("\x3c\x00\xc0\x00", 4));
  EXPECT_EQ(TensorFile::parse(h.data(), h.size(), "h.npy").at("h").to_float32(), (std::vector<float>{1.0f, -2.0f}));
  const std::string q = npy_bytes(1, "{'descr': '>i8', 'fortran_order': False, 'shape': (1,), }",
                                  std::string("\xff\xff\xff\xff\xff\xff\xff\xfe", 8));
  EXPECT_EQ(TensorFile::parse(q.data(), q.size(), "q.npy").at("q").to_float32(), (std::vector<float>{-2.0f}));
}

TEST(Npy, RankZeroAndEmptyTensors) {
  const std::string s =
      npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", raw_bytes(std::vector<double>{2.5}));
  const TensorFile f = TensorFile::parse(s.data(), s.size(), "s.npy");
  EXPECT_TRUE(f.at("s").shape.empty());
  EXPECT_EQ(f.at("s").to_float32(), std::vector<float>{2.5f});
  const std::string e = npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", "");
  const TensorFile g = TensorFile::parse(e.data(), e.size(), "e.npy");
  EXPECT_EQ(g.at("e").element_count(), 0u);
  EXPECT_TRUE(g.at("e").to_float32().empty());
}

TEST(Npy, WriterRoundTripsEveryDtypeThroughAFile) {
  TempDir dir;
  const std::vector<std::uint8_t> raw = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                         16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                         32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47};
  for (ElementType t : {ElementType::f16, ElementType::f32, ElementType::f64, ElementType::i8, ElementType::i16,
                        ElementType::i32, ElementType::i64, ElementType::u8, ElementType::u16, ElementType::u32,
                        ElementType::u64, ElementType::boolean}) {
    const std::vector<std::size_t> shape = {2, 3};
    const std::string path = dir.path(std::string("t_") + element_type_name(t) + ".npy");
    write_npy(path, TensorRef{"ignored", t, shape, raw.data()});
    const TensorFile f = TensorFile::open(path);
    const TensorView& v = f.at(std::string("t_") + element_type_name(t));
    EXPECT_EQ(v.dtype, t);
    EXPECT_EQ(v.shape, shape);
    EXPECT_EQ(std::memcmp(v.data, raw.data(), v.byte_size()), 0) << element_type_name(t);
    EXPECT_EQ(read_bytes(path).size() % 64, v.byte_size() % 64) << "data starts at a multiple of 64";
  }
  EXPECT_THROW(write_npy(dir.path("bf.npy"), TensorRef{"x", ElementType::bf16, {2}, raw.data()}), InvalidArgument);
}

const char* kGood = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

TEST(NpyErrors, HeaderProblemsNameFileAndTensor) {
  const std::string file = "data/layer1.npy", key = "layer1";
  EXPECT_TRUE(rejects("\x93NUMPX" + npy_bytes(1, kGood, kF4x6).substr(6), file, "", "unrecognised"));
  std::string v4 = npy_bytes(1, kGood, kF4x6);
  v4[6] = 4;
  EXPECT_TRUE(rejects(v4, file, key, "unsupported .npy format version 4.0"));
  std::string minor = npy_bytes(1, kGood, kF4x6);
  minor[7] = 1;
  EXPECT_TRUE(rejects(minor, file, key, "version 1.1"));
  EXPECT_TRUE(rejects(npy_bytes(2, std::string(20000, ' ') + kGood, kF4x6), file, key, "header too long"));
  EXPECT_TRUE(rejects(npy_bytes(1, kGood, kF4x6).substr(0, 40), file, key, "truncated .npy header"));
  EXPECT_TRUE(rejects(std::string("\x93NUMPY\x02\x00\x01", 9), file, key, "bad magic"));
  EXPECT_TRUE(rejects(std::string("\x93NUMPY\x02\x00\x01\x00", 10), file, key, "truncated .npy header"));
  EXPECT_TRUE(
      rejects(npy_bytes(1, "{'descr': '<f4', 'shape': (2, 3), }", kF4x6), file, key, "does not contain the keys"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", kF4x6), file,
                      key, "unexpected key 'x'"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", kF4x6),
                      file, key, "repeats the key 'descr'"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0, 3), }", kF4x6), file, key,
                      "not a non-negative integer"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", kF4x6), file, key,
                      "not a non-negative integer"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", kF4x6), file, key,
                      "not a tuple"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': [6], }", kF4x6), file, key,
                      "not a tuple"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,), }", kF4x6), file, key,
                      "not True or False"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x", kF4x6), file, key,
                      "text after"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)", kF4x6), file, key,
                      "invalid .npy header"));
  EXPECT_TRUE(rejects(npy_bytes(1, "", kF4x6), file, key, "invalid .npy header"));
}

TEST(NpyErrors, UnsupportedDtypesAreRejectedByName) {
  const std::string file = "w.npy", key = "w";
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '|O', 'fortran_order': False, 'shape': (6,), }", kF4x6), file, key,
                      "object arrays"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", kF4x6), file,
                      key, "structured dtypes"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '|V8', 'fortran_order': False, 'shape': (3,), }", kF4x6), file, key,
                      "structured"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", kF4x6), file, key,
                      "unsupported dtype '<c8'"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<U1', 'fortran_order': False, 'shape': (6,), }", kF4x6), file, key,
                      "unsupported dtype"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }", kF4x6), file, key,
                      "unsupported dtype"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '|f4', 'fortran_order': False, 'shape': (6,), }", kF4x6), file, key,
                      "no byte order"));
  EXPECT_TRUE(rejects(npy_bytes(1, "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (3,), }", kF4x6), file, key,
                      "unsupported dtype"));
}

TEST(NpyErrors, DataSizeProblems) {
  const std::string file = "d.npy", key = "d";
  EXPECT_TRUE(rejects(npy_bytes(1, kGood, kF4x6.substr(0, 20)), file, key, "truncated data"));
  EXPECT_TRUE(rejects(npy_bytes(1, kGood, kF4x6 + "xxxx"), file, key, "size mismatch"));
  EXPECT_TRUE(
      rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", kF4x6),
              file, key, "overflows"));
  EXPECT_TRUE(
      rejects(npy_bytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }", kF4x6),
              file, key, "overflows"));
  EXPECT_TRUE(
      rejects(npy_bytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }", kF4x6), file,
              key, "overflows"));
}

TEST(NpyErrors, MissingFileAndUnknownKey) {
  try {
    TensorFile::open("/nonexistent/q.npy");
    FAIL() << "opened";
  } catch (const FileError& e) {
    EXPECT_EQ(e.file(), "/nonexistent/q.npy");
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
  const std::string b = npy_bytes(1, kGood, kF4x6);
  const TensorFile f = TensorFile::parse(b.data(), b.size(), "m.npy");
  try {
    f.at("other");
    FAIL() << "found";
  } catch (const FileError& e) {
    EXPECT_EQ(e.key(), "other");
    EXPECT_EQ(e.file(), "m.npy");
  }
}

TEST(Npy, MisalignedDataIsReadInPlace) {
  // An image placed at an odd address: no copy, no zero-copy float pointer, conversion still exact.
  const std::string b = npy_bytes(1, kGood, kF4x6);
  std::string shifted = "x" + b;
  const TensorFile f = TensorFile::parse(shifted.data() + 1, b.size(), "a.npy");
  EXPECT_EQ(reinterpret_cast<const char*>(f.at("a").data), shifted.data() + 1 + b.size() - kF4x6.size());
  EXPECT_EQ(f.at("a").as_float32(), nullptr);
  EXPECT_EQ(f.at("a").to_float32(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

}  // namespace
