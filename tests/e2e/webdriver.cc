#include "tests/e2e/webdriver.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>
#include <sodium.h>

namespace relais::e2e {

namespace {

constexpr const char* kElement = "element-6066-11e4-a52e-4f735466cecf";

// A port nobody listens on now (the kernel's choice), for chromedriver to take.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("no free port");
  socklen_t size = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

Browser::Browser(const std::string& profile, int width, int height) : port_(FreePort()) {
  driver_ = ::fork();
  if (driver_ == 0) {
    const std::string port = "--port=" + std::to_string(port_);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execl("/usr/bin/chromedriver", "chromedriver", port.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Ready when its status answers.
  httplib::Client probe("127.0.0.1", port_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!probe.Get("/status")) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("chromedriver did not start");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const nlohmann::json options = {
      {"binary", "/usr/bin/chromium"},
      {"args",
       {"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--user-data-dir=" + profile, "--window-size=" + std::to_string(width) + "," + std::to_string(height)}}};
  const nlohmann::json made =
      Call("POST", "/session", {{"capabilities", {{"alwaysMatch", {{"goog:chromeOptions", options}}}}}});
  session_ = made.at("sessionId").get<std::string>();
}

Browser::~Browser() {
  try {
    if (!session_.empty()) Call("DELETE", "/session/" + session_);
  } catch (...) {  // the driver is killed next anyway
  }
  if (driver_ > 0) {
    ::kill(driver_, SIGTERM);
    int status = 0;
    ::waitpid(driver_, &status, 0);
  }
}

nlohmann::json Browser::Call(const std::string& method, const std::string& path, const nlohmann::json& body) {
  httplib::Client c("127.0.0.1", port_);
  c.set_read_timeout(60, 0);
  const std::string payload = body.is_null() ? "{}" : body.dump();
  httplib::Result r = method == "GET"      ? c.Get(path.c_str())
                      : method == "DELETE" ? c.Delete(path.c_str())
                                           : c.Post(path.c_str(), payload, "application/json");
  if (!r) throw std::runtime_error("WebDriver " + method + " " + path + ": no answer");
  nlohmann::json answer = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status != 200 || answer.is_discarded()) {
    throw std::runtime_error("WebDriver " + method + " " + path + " " + payload.substr(0, 200) + ": " +
                             std::to_string(r->status) + " " + r->body.substr(0, 500));
  }
  return answer["value"];
}

void Browser::Go(const std::string& url) { Call("POST", "/session/" + session_ + "/url", {{"url", url}}); }
void Browser::Refresh() { Call("POST", "/session/" + session_ + "/refresh"); }

std::string Browser::Find(const std::string& css) {
  return Call("POST", "/session/" + session_ + "/element", {{"using", "css selector"}, {"value", css}})
      .at(kElement)
      .get<std::string>();
}

bool Browser::Has(const std::string& css) {
  return !Call("POST", "/session/" + session_ + "/elements", {{"using", "css selector"}, {"value", css}}).empty();
}

bool Browser::WaitFor(const std::string& css, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!Has(css)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

void Browser::Type(const std::string& element, const std::string& text) {
  Call("POST", "/session/" + session_ + "/element/" + element + "/value", {{"text", text}});
}
void Browser::Clear(const std::string& element) {
  Call("POST", "/session/" + session_ + "/element/" + element + "/clear");
}
void Browser::Click(const std::string& element) {
  Call("POST", "/session/" + session_ + "/element/" + element + "/click");
}
std::string Browser::Text(const std::string& element) {
  return Call("GET", "/session/" + session_ + "/element/" + element + "/text").get<std::string>();
}
std::string Browser::Source() { return Call("GET", "/session/" + session_ + "/source").get<std::string>(); }
std::string Browser::Url() { return Call("GET", "/session/" + session_ + "/url").get<std::string>(); }
nlohmann::json Browser::Script(const std::string& script) {
  return Call("POST", "/session/" + session_ + "/execute/sync", {{"script", script}, {"args", nlohmann::json::array()}});
}
void Browser::Resize(int width, int height) {
  Call("POST", "/session/" + session_ + "/window/rect", {{"width", width}, {"height", height}});
}

void Browser::Screenshot(const std::string& path) {
  const std::string b64 = Call("GET", "/session/" + session_ + "/screenshot").get<std::string>();
  std::string png(b64.size(), '\0');
  size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(png.data()), png.size(), b64.data(), b64.size(), nullptr,
                        &size, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    throw std::runtime_error("WebDriver screenshot: not base64");
  }
  std::ofstream(path, std::ios::binary).write(png.data(), static_cast<std::streamsize>(size));
}

}  // namespace relais::e2e
