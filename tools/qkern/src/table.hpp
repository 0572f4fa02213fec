// qkern tool — SPDX-License-Identifier: Apache-2.0
//
// table.hpp: plain-text tables for the terminal (columns padded to their widest cell; numbers
// right-aligned) and the number formatting every command shares.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace qkern::tool {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::size_t size() const { return rows_.size(); }
  /// The table: header, a rule, the rows; column 0 left-aligned, the others right-aligned.
  std::string str() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// %.*g with `digits` significant digits ("inf" / "-inf" / "nan" spelled out).
std::string num(double v, int digits = 5);
/// Shape as "[a, b, c]".
std::string shape_str(const std::vector<std::uint64_t>& shape);

}  // namespace qkern::tool
