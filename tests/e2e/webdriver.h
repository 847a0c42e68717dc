// A headless Chromium driven through WebDriver, as a person's browser: Debian's `chromedriver`
// (package chromium-driver) started on a free loopback port, one session of `/usr/bin/chromium`
// (--headless), spoken to over HTTP with cpp-httplib (the W3C WebDriver protocol). For the tests of
// the pages of `relais ui` (tests/e2e/ui_test.cc). Every failure throws std::runtime_error naming
// the command and what the driver answered.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/e2e/run.h"

namespace relais::e2e {

class Browser {
 public:
  // `profile`: a folder for the browser's profile (cookies), removed with the test's TempDir.
  Browser(const std::string& profile, int width, int height);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  void Go(const std::string& url);
  void Refresh();
  // The element the CSS selector finds first (its WebDriver id); throws when there is none.
  std::string Find(const std::string& css);
  bool Has(const std::string& css);
  // Whether an element the selector finds shows up within `wait` (a page's script at work).
  bool WaitFor(const std::string& css, std::chrono::milliseconds wait);
  void Type(const std::string& element, const std::string& text);
  void Clear(const std::string& element);
  void Click(const std::string& element);
  std::string Text(const std::string& element);
  std::string Source();
  std::string Url();
  nlohmann::json Script(const std::string& script);
  void Resize(int width, int height);
  // A PNG of the viewport, written to `path`.
  void Screenshot(const std::string& path);

 private:
  nlohmann::json Call(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);
  pid_t driver_ = -1;
  int port_ = 0;
  std::string session_;
};

}  // namespace relais::e2e
