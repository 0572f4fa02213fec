// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_io_golden.cpp: the tensor files written by NumPy (and safetensors written from the format
// specification) by tests/golden/generate_io_golden.py are read back and converted to float32; the
// result must equal NumPy's own astype(float32) bit for bit (data/io/expected.txt), for every dtype,
// both byte orders, C and Fortran order, .npy versions 1.0/2.0/3.0, .npz stored and compressed.
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "arch_test_util.hpp"
#include "io_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern::io;
using namespace qkern_test;

std::string golden_dir() { return std::string(QKERN_SOURCE_DIR) + "/tests/golden/data/io/"; }

struct Expected {
  std::string file, key, dtype;
  bool fortran = false, swapped = false;
  std::vector<std::size_t> shape;
  std::vector<std::uint32_t> bits;
};

std::vector<Expected> load_expected() {
  std::ifstream in(golden_dir() + "expected.txt");
  std::vector<Expected> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    std::string word;
    Expected e;
    int fortran = 0, swapped = 0;
    std::size_t rank = 0, count = 0;
    s >> word >> e.file >> e.key >> e.dtype >> fortran >> swapped >> rank;
    e.fortran = fortran != 0;
    e.swapped = swapped != 0;
    e.shape.resize(rank);
    for (auto& d : e.shape) s >> d;
    s >> count;
    e.bits.resize(count);
    for (auto& b : e.bits) s >> std::hex >> b;
    out.push_back(std::move(e));
  }
  return out;
}

TEST(IoGolden, EveryTensorMatchesNumpysConversion) {
  const std::vector<Expected> expected = load_expected();
  ASSERT_GE(expected.size(), 70u) << "golden list missing or short";
  std::map<std::string, std::unique_ptr<TensorFile>> files;
  std::map<std::string, std::set<std::string>> keys;
  for (const Expected& e : expected) {
#if !defined(QKERN_HAVE_ZLIB)
    // Deflated members need zlib; without it (e.g. a cross build) opening the file must say so.
    if (e.file == "compressed.npz") {
      EXPECT_THROW(
          {
            try {
              (void)TensorFile::open(golden_dir() + e.file);
            } catch (const qkern::io::FileError& err) {
              EXPECT_NE(std::string(err.what()).find("QKERN_HAVE_ZLIB"), std::string::npos) << err.what();
              throw;
            }
          },
          qkern::io::FileError);
      continue;
    }
#endif
    auto& f = files[e.file];
    if (!f) f.reset(new TensorFile(TensorFile::open(golden_dir() + e.file)));
    keys[e.file].insert(e.key);
    const std::string where = e.file + ":" + e.key;
    ASSERT_TRUE(f->contains(e.key)) << where;
    const TensorView& t = f->at(e.key);
    EXPECT_EQ(element_type_name(t.dtype), e.dtype) << where;
    EXPECT_EQ(t.shape, e.shape) << where;
    if (e.file.size() > 4 && e.file.compare(e.file.size() - 4, 4, ".npy") == 0) {
      EXPECT_EQ(t.fortran_order, e.fortran) << where;
    }
    EXPECT_EQ(t.byte_swapped, e.swapped) << where;
    const std::vector<float> got = t.to_float32();
    ASSERT_EQ(got.size(), e.bits.size()) << where;
    for (std::size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(bits_of(got[i]), e.bits[i]) << where << " element " << i << " got " << got[i];
    const bool zero_copy = t.dtype == ElementType::f32 && !t.byte_swapped &&
                           (!t.fortran_order || t.shape.size() <= 1) &&
                           reinterpret_cast<std::uintptr_t>(t.data) % 4 == 0;
    EXPECT_EQ(t.as_float32() != nullptr, zero_copy) << where;
  }
  for (const auto& kv : files) EXPECT_EQ(kv.second->tensors().size(), keys[kv.first].size()) << kv.first;
  EXPECT_EQ(files.at("model.safetensors")->metadata().at("source"), "generate_io_golden.py");
  EXPECT_EQ(files.at("stored.npz")->format(), FileFormat::npz);
}

#if defined(QKERN_HAVE_ZLIB)
TEST(IoGolden, QkernWritesWhatItReadsFromNumpyFiles) {
  // Re-write every golden tensor that numpy can hold with qkern's writers and read it back.
  TempDir dir;
  const TensorFile f = TensorFile::open(golden_dir() + "stored.npz");
  std::vector<std::vector<float>> values;
  std::vector<TensorRef> refs;
  for (const TensorView& t : f.tensors()) values.push_back(t.to_float32());
  for (std::size_t i = 0; i < values.size(); ++i)
    refs.push_back(TensorRef{f.tensors()[i].name, ElementType::f32, f.tensors()[i].shape, values[i].data()});
  write_npz(dir.path("a.npz"), refs, true);
  write_safetensors(dir.path("a.safetensors"), refs);
  for (const char* name : {"a.npz", "a.safetensors"}) {
    const TensorFile g = TensorFile::open(dir.path(name));
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::vector<float> back = g.at(refs[i].name).to_float32();
      ASSERT_EQ(back.size(), values[i].size());
      EXPECT_EQ(std::memcmp(back.data(), values[i].data(), back.size() * 4), 0) << name << " " << refs[i].name;
    }
  }
}
#endif

}  // namespace
