// SPDX-License-Identifier: BSD-3-Clause
// conformance_record: drafts a case's expected replies from the memcached oracle.
// Usage: conformance_record CASE.txt [SERVER_BINARY]
// Plays the case's sends (and @conn/@close steps) on a fresh server started with the case's
// "# args:", ignores its expectations, and prints the case with the replies the server
// actually sent after each send as "<" lines ("<<" for a tail without \r\n, "<closed" for a
// close). Each send waits 150 ms for its replies.
// Review the draft: turn varying values (cas, pid, time) into "<~" regexes by hand.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "tests/conformance/transcript.h"
#include "tests/testutil/escape.h"
#include "tests/testutil/oracle.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/test_client.h"

namespace warmcache::conformance {
namespace {

constexpr auto kSettle = std::chrono::milliseconds(150);

void PrintReplies(testutil::TestClient& client) {
  std::string bytes = client.ReadAvailable(kSettle);
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find("\r\n", pos);
    if (end == std::string::npos) {
      std::cout << "<< " << testutil::EscapeBytes(bytes.substr(pos)) << "\n";
      break;
    }
    std::string line = bytes.substr(pos, end - pos);
    std::cout << (line.empty() ? "<" : "< " + testutil::EscapeBytes(line)) << "\n";
    pos = end + 2;
  }
  if (client.peer_closed()) std::cout << "<closed\n";
}

int Record(const std::string& path, testutil::ServerCommand cmd) {
  auto t = LoadTranscript(path);
  if (!t.ok()) {
    std::cerr << t.status().ToString() << "\n";
    return 2;
  }
  for (const auto& a : testutil::EphemeralPortArgs()) cmd.args.push_back(a);
  for (const auto& a : t->extra_args) cmd.args.push_back(a);
  auto server = testutil::ServerProcess::Start(cmd.binary, cmd.args);
  if (!server.ok()) {
    std::cerr << server.status().ToString() << "\n";
    return 2;
  }
  if (!t->extra_args.empty()) {
    std::cout << "# args:";
    for (const auto& a : t->extra_args) std::cout << " " << a;
    std::cout << "\n";
  }
  std::map<std::string, std::unique_ptr<testutil::TestClient>> conns;
  std::string current = "main";
  for (const Step& step : t->steps) {
    if (step.kind == StepKind::kUseConnection) {
      current = step.text;
      std::cout << "@conn " << current << "\n";
    } else if (step.kind == StepKind::kCloseConnection) {
      conns.erase(current);
      std::cout << "@close\n";
    } else if (step.kind == StepKind::kSend) {
      auto& client = conns[current];
      if (!client) client = std::move(testutil::TestClient::Connect((*server)->port()).value());
      std::cout << (step.append_crlf ? (step.text.empty() ? ">" : "> ") : ">> ") << step.text
                << "\n";
      (void)client->Send(StepBytes(step, Context{std::time(nullptr), nullptr}).value());
      PrintReplies(*client);
    }
  }
  (*server)->Kill9();
  return 0;
}

}  // namespace
}  // namespace warmcache::conformance

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: conformance_record CASE.txt [SERVER_BINARY]\n";
    return 2;
  }
  auto cmd = warmcache::testutil::FindOracle();
  if (argc == 3) {
    cmd = warmcache::testutil::ServerCommand{argv[2], {}};
    if (geteuid() == 0) cmd->args = {"-u", "root"};
  }
  if (!cmd) {
    std::cerr << "memcached (the oracle) is not installed\n";
    return 2;
  }
  return warmcache::conformance::Record(argv[1], *cmd);
}
