// qkern tool tests — SPDX-License-Identifier: Apache-2.0
//
// test_doctor_report.cpp: `qkern doctor` as a command (exit codes, report file) and the HTML report:
// self-contained (no script, no external resource), every layer's histogram and channel chart
// present, and, when Debian's chromium is installed, rendered by a real headless browser (the
// rendered DOM holds every layer's chart with its bars; the screenshot is written).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cmd_doctor.hpp"
#include "doctor.hpp"
#include "doctor_test_util.hpp"

namespace {

namespace fs = std::filesystem;
using namespace qkern::tool;

using doctor_test::kDigits;
using doctor_test::scratch;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Number of occurrences of `what` between `from` and the next "</svg>".
std::size_t count_in_svg(const std::string& dom, std::size_t from, const std::string& what) {
  const std::size_t end = dom.find("</svg>", from);
  std::size_t n = 0;
  for (std::size_t p = dom.find(what, from); p != std::string::npos && p < end; p = dom.find(what, p + 1)) ++n;
  return n;
}

void check_charts(const std::string& html, const doctor::Report& r) {
  for (const doctor::LayerRow& l : r.layers) {
    const std::size_t h = html.find("class=\"hist\" data-layer=\"" + l.name + "\"");
    ASSERT_NE(h, std::string::npos) << l.name;
    EXPECT_EQ(count_in_svg(html, h, "class=\"bar\""), 64u) << l.name;
    if (l.range) {
      EXPECT_GE(count_in_svg(html, h, "class=\"clip\""), l.range->methods.size()) << l.name;
    }
    const std::size_t c = html.find("class=\"chan\" data-layer=\"" + l.name + "\"");
    ASSERT_NE(c, std::string::npos) << l.name;
    EXPECT_EQ(count_in_svg(html, c, "class=\"crange\""), l.channel_min.size()) << l.name;
  }
}

TEST(DoctorReport, CommandWritesTheReportAndMapsErrorsToExitCodes) {
  const fs::path dir = scratch("cmd");
  const std::string report = (dir / "report.html").string();
  const std::string dump = kDigits + "/broken/single_colour", model = kDigits + "/bn";
  const char* argv[] = {"qkern", "doctor", dump.c_str(), "--model", model.c_str(), "--report", report.c_str()};
  testing::internal::CaptureStdout();
  EXPECT_EQ(doctor_main(7, argv), 0);
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("2. calibration set is diverse and in-domain    failed"), std::string::npos) << out;
  EXPECT_NE(out.find("Per-layer table"), std::string::npos);
  ASSERT_TRUE(fs::exists(report));
  const std::string html = slurp(report);
  EXPECT_NE(html.find("class=\"thumb\""), std::string::npos);  // single-colour images shown

  const std::string missing = (dir / "nothing-here").string();
  fs::create_directories(missing);
  const char* bad[] = {"qkern", "doctor", missing.c_str()};
  testing::internal::CaptureStderr();
  EXPECT_EQ(doctor_main(3, bad), 2);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("nothing-here"), std::string::npos);
  const char* usage[] = {"qkern", "doctor", dump.c_str(), "--bn-kl", "not-a-number"};
  testing::internal::CaptureStderr();
  EXPECT_EQ(doctor_main(5, usage), 1);
  testing::internal::GetCapturedStderr();
  fs::remove_all(dir);
}

TEST(DoctorReport, HtmlIsSelfContainedWithEveryLayersCharts) {
  doctor::Inputs in;
  in.dump = kDigits + "/bn";
  const doctor::Report r = doctor::run(in);
  const std::string html = doctor::format_html(r);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  check_charts(html, r);
  EXPECT_NE(html.find("id=\"three-way\""), std::string::npos);
  EXPECT_NE(html.find("paired bootstrap"), std::string::npos);
  EXPECT_NE(html.find("id=\"noise\""), std::string::npos);
  EXPECT_NE(html.find("id=\"verdicts\""), std::string::npos);
}

TEST(DoctorReport, RendersInHeadlessChromium) {
#ifndef QKERN_CHROMIUM
  GTEST_SKIP() << "chromium not found at configure time (Debian: apt-get install chromium)";
#else
  const fs::path dir = scratch("chromium");
  doctor::Inputs in;
  in.dump = kDigits + "/bn";
  const doctor::Report r = doctor::run(in);
  const fs::path page = dir / "report.html";
  std::ofstream(page) << doctor::format_html(r);
  const std::string flags = std::string(QKERN_CHROMIUM) +
                            " --headless --no-sandbox --disable-gpu --disable-background-networking "
                            "--disable-component-update --disable-sync --no-first-run --user-data-dir=" +
                            (dir / "profile").string();
  const fs::path dom = dir / "dom.html", shot = dir / "shot.png";
  ASSERT_EQ(std::system((flags + " --dump-dom file://" + page.string() + " > " + dom.string() + " 2> " +
                         (dir / "dom.log").string())
                            .c_str()),
            0)
      << slurp(dir / "dom.log");
  const std::string rendered = slurp(dom);
  ASSERT_NE(rendered.find("qkern doctor"), std::string::npos) << rendered.substr(0, 400);
  check_charts(rendered, r);  // the browser's DOM holds every chart with every bar
  ASSERT_EQ(std::system((flags + " --window-size=1280,1600 --screenshot=" + shot.string() + " file://" + page.string() +
                         " > " + (dir / "shot.log").string() + " 2>&1")
                            .c_str()),
            0);
  ASSERT_TRUE(fs::exists(shot));
  const std::string png = slurp(shot);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_GT(png.size(), 20000u);  // a blank page compresses to a few KB
  const std::string log = slurp(dir / "shot.log") + slurp(dir / "dom.log");
  EXPECT_EQ(log.find("net::ERR"), std::string::npos) << log;  // nothing failed to load
  fs::remove_all(dir);
#endif
}

}  // namespace
