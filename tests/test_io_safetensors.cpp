// qkern tests — SPDX-License-Identifier: Apache-2.0
//
// test_io_safetensors.cpp: the safetensors reader and writer and the strict JSON parser behind it:
// every dtype, metadata, file order, and every rejected malformation (FileError naming the file and
// the tensor).
#include "arch_test_util.hpp"
#include "io_test_util.hpp"

namespace {

using namespace qkern;
using namespace qkern::io;
using namespace qkern_test;

// A safetensors image from header JSON text and buffer bytes (header padded to 8 unless raw).
std::string st_bytes(std::string json, const std::string& buffer, bool pad = true) {
  if (pad) json.append((8 - json.size() % 8) % 8, ' ');
  std::string out;
  const std::uint64_t n = json.size();
  for (int b = 0; b < 8; ++b) out += static_cast<char>((n >> (8 * b)) & 0xff);
  return out + json + buffer;
}

const std::string kBuf = raw_bytes(std::vector<float>{1, 2, 3, 4}) + std::string("\x00\x3c\x00\xc0", 4);  // + f16 1, -2

TEST(Safetensors, ReadsTensorsInOffsetOrderWithMetadata) {
  const std::string b = st_bytes(
      R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"__metadata__":{"format":"pt","k":"v\u00e9"},)"
      R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})",
      kBuf);
  const TensorFile f = TensorFile::parse(b.data(), b.size(), "m.safetensors");
  EXPECT_EQ(f.format(), FileFormat::safetensors);
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensors()[0].name, "w");
  EXPECT_EQ(f.tensors()[1].name, "h");
  EXPECT_EQ(f.at("w").to_float32(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_NE(f.at("w").as_float32(), nullptr);
  EXPECT_EQ(f.at("h").to_float32(), (std::vector<float>{1, -2}));
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("k"), "v\xc3\xa9");
}

TEST(Safetensors, EmptyAndRankZeroTensorsAndEmptyHeader) {
  const std::string b = st_bytes(R"({"e":{"dtype":"I8","shape":[0,3],"data_offsets":[0,0]},)"
                                 R"("s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})",
                                 raw_bytes(std::vector<double>{-0.5}));
  const TensorFile f = TensorFile::parse(b.data(), b.size(), "e.safetensors");
  EXPECT_EQ(f.at("e").element_count(), 0u);
  EXPECT_EQ(f.at("s").to_float32(), std::vector<float>{-0.5f});
  const std::string empty = st_bytes("{}", "");
  EXPECT_TRUE(TensorFile::parse(empty.data(), empty.size(), "x.safetensors").tensors().empty());
}

TEST(Safetensors, WriterRoundTripsEveryDtypeAndMetadata) {
  TempDir dir;
  std::vector<std::uint8_t> raw(64);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(i * 7 + 1);
  std::vector<TensorRef> ts;
  const ElementType all[] = {ElementType::f16,    ElementType::bf16, ElementType::f32, ElementType::f64,
                             ElementType::i8,     ElementType::i16,  ElementType::i32, ElementType::i64,
                             ElementType::u8,     ElementType::u16,  ElementType::u32, ElementType::u64,
                             ElementType::boolean};
  for (ElementType t : all) ts.push_back(TensorRef{std::string("t_") + element_type_name(t), t, {3}, raw.data()});
  write_safetensors(dir.path("a.safetensors"), ts, {{"who", "qkern"}, {"q\"uote", "a\\b\n"}});
  const std::string bytes = read_bytes(dir.path("a.safetensors"));
  std::uint64_t n = 0;
  for (int b = 7; b >= 0; --b) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(b)]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes[8], '{');
  const TensorFile f = TensorFile::open(dir.path("a.safetensors"));
  ASSERT_EQ(f.tensors().size(), 13u);
  // Sorted by descending alignment then name: the 8-byte types first.
  EXPECT_EQ(f.tensors()[0].name, "t_f64");
  EXPECT_EQ(f.tensors()[1].name, "t_i64");
  for (ElementType t : all) {
    const TensorView& v = f.at(std::string("t_") + element_type_name(t));
    EXPECT_EQ(v.dtype, t);
    EXPECT_EQ(std::memcmp(v.data, raw.data(), v.byte_size()), 0);
  }
  EXPECT_EQ(f.metadata().at("who"), "qkern");
  EXPECT_EQ(f.metadata().at("q\"uote"), "a\\b\n");
  EXPECT_THROW(write_safetensors(dir.path("b.safetensors"), {ts[0], ts[0]}), InvalidArgument);
  EXPECT_THROW(
      write_safetensors(dir.path("b.safetensors"), {TensorRef{"__metadata__", ElementType::u8, {1}, raw.data()}}),
      InvalidArgument);
}

const std::string kOne = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";

TEST(SafetensorsErrors, HeaderProblems) {
  const std::string file = "bad.safetensors";
  const std::string buf = kBuf.substr(0, 16);
  EXPECT_TRUE(rejects(std::string("\x10\0\0\0\0\0\0\0", 8), file, "", "truncated safetensors file: header size 16"));
  EXPECT_TRUE(rejects(std::string("\x01\0\0\0\x01\0\0\0{}", 10), file, "", "header too long"));
  EXPECT_TRUE(rejects(std::string("\x01\0\0\0\0\0\0\x01{}", 10), file, "", "unrecognised tensor file format"));
  EXPECT_TRUE(rejects(std::string("\x01\0\0", 3), file, "", "unrecognised tensor file format"));
  EXPECT_TRUE(rejects(std::string("\x00\xe1\xf5\x05\0\0\0\0{", 9), file, "", "truncated safetensors"));  // 100,000,000
  EXPECT_TRUE(rejects(st_bytes("{\"w\":", buf), file, "", "invalid safetensors header JSON"));
  EXPECT_TRUE(rejects(st_bytes("[1, 2]", ""), file, "", "not a JSON object"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":1})", ""), file, "w", "header entry is not an object"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"w":{}})", buf), file, "",
                      "duplicate key"));
  EXPECT_TRUE(rejects(st_bytes(R"({"__metadata__":{"a":1}})", ""), file, "__metadata__", "is not a string"));
  EXPECT_TRUE(rejects(st_bytes(R"({"__metadata__":[]})", ""), file, "__metadata__", "not an object"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"shape":[4],"data_offsets":[0,16]}})", buf), file, "w", "'dtype'"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","data_offsets":[0,16]}})", buf), file, "w", "'shape'"));
  EXPECT_TRUE(
      rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0]}})", buf), file, "w", "data_offsets"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]}})", buf), file, "w",
                      "unsupported dtype 'F8_E4M3'"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", buf), file, "w",
                      "not a non-negative integer"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}})", buf), file, "w",
                      "not a non-negative integer"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,"16"]}})", buf), file, "w",
                      "data_offsets"));
}

TEST(SafetensorsErrors, OffsetProblems) {
  const std::string file = "o.safetensors";
  const std::string buf = kBuf.substr(0, 16);
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", buf), file, "w",
                      "begin 16 > end 0"));
  EXPECT_TRUE(
      rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", buf), file, "w", "size mismatch"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", buf), file, "w",
                      "outside the data buffer"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", buf + "xx"), file, "",
                      "data buffer not covered"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                               buf),
                      file, "b", "overlap those of tensor 'a'"));
  EXPECT_TRUE(rejects(st_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})",
                               buf),
                      file, "b", "hole in the data buffer"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}})", buf),
                      file, "w", "overflows"));
  EXPECT_TRUE(rejects(st_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,18446744073709551616]}})", buf),
                      file, "w", "data_offsets"));
}

TEST(Json, StrictGrammar) {
  auto ok = [](const std::string& s) {
    try {
      parse_json(s.data(), s.size());
      return true;
    } catch (const JsonError&) {
      return false;
    }
  };
  EXPECT_TRUE(ok(R"( {"a": [1, -2.5e+3, true, false, null, "x\"\\\/\b\f\n\r\t\u0041\ud83d\ude00"]} )"));
  EXPECT_TRUE(ok("0"));
  EXPECT_TRUE(ok("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""));
  for (const char* bad : {"",
                          "{",
                          "{]",
                          "[1,]",
                          "{\"a\":1,}",
                          "01",
                          "1.",
                          ".5",
                          "1e",
                          "-",
                          "+1",
                          "NaN",
                          "Infinity",
                          "'a'",
                          "\"\\x\"",
                          "\"\\u12\"",
                          "\"\\ud800\"",
                          "\"\\udc00\"",
                          "[1] [2]",
                          "tru",
                          "nul",
                          "// c\n1",
                          "\"a\nb\"",
                          "\"\xc0\xaf\"",
                          "\"\xed\xa0\x80\"",
                          "\"\xf5\x80\x80\x80\"",
                          "\"\xe2\x82\"",
                          "{\"a\":1,\"a\":2}",
                          "{1:2}"})
    EXPECT_FALSE(ok(bad)) << bad;
  EXPECT_FALSE(ok(std::string(100, '[') + std::string(100, ']')));  // too deep
  EXPECT_TRUE(ok(std::string(60, '[') + std::string(60, ']')));
  const std::string nums = "[18446744073709551615, 18446744073709551616, 1e3, -0]";
  const JsonValue v = parse_json(nums.data(), nums.size());
  std::uint64_t u = 0;
  EXPECT_TRUE(v.array[0].as_uint64(u));
  EXPECT_EQ(u, UINT64_MAX);
  EXPECT_FALSE(v.array[1].as_uint64(u));
  EXPECT_FALSE(v.array[2].as_uint64(u));
  EXPECT_FALSE(v.array[3].as_uint64(u));
  EXPECT_EQ(json_quote("a\"b\\c\x01"), "\"a\\\"b\\\\c\\u0001\"");
}

}  // namespace
