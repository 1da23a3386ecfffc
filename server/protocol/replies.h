// SPDX-License-Identifier: BSD-3-Clause
// memcached's exact reply strings for the text protocol.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace warmcache::protocol::reply {

inline constexpr std::string_view kStored = "STORED\r\n";
inline constexpr std::string_view kNotStored = "NOT_STORED\r\n";
inline constexpr std::string_view kExists = "EXISTS\r\n";
inline constexpr std::string_view kNotFound = "NOT_FOUND\r\n";
inline constexpr std::string_view kDeleted = "DELETED\r\n";
inline constexpr std::string_view kTouched = "TOUCHED\r\n";
inline constexpr std::string_view kEnd = "END\r\n";
inline constexpr std::string_view kMetaNoop = "MN\r\n";
inline constexpr std::string_view kOk = "OK\r\n";
// The version clients gate features on (warmcache's own is `stats warmcache_version`).
inline constexpr std::string_view kVersion = "VERSION 1.6.18\r\n";
inline constexpr std::string_view kReset = "RESET\r\n";
inline constexpr std::string_view kError = "ERROR\r\n";
inline constexpr std::string_view kBadFormat = "CLIENT_ERROR bad command line format\r\n";
inline constexpr std::string_view kBadDataChunk = "CLIENT_ERROR bad data chunk\r\n";
inline constexpr std::string_view kInvalidExptime = "CLIENT_ERROR invalid exptime argument\r\n";
inline constexpr std::string_view kInvalidDelta = "CLIENT_ERROR invalid numeric delta argument\r\n";
inline constexpr std::string_view kNonNumeric =
    "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";
inline constexpr std::string_view kDeleteUsage =
    "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n";
inline constexpr std::string_view kTooLarge = "SERVER_ERROR object too large for cache\r\n";
inline constexpr std::string_view kNoMemoryStoring =
    "SERVER_ERROR out of memory storing object\r\n";
inline constexpr std::string_view kNoMemory = "SERVER_ERROR out of memory\r\n";
inline constexpr std::string_view kFlushDisabled = "CLIENT_ERROR flush_all not allowed\r\n";
inline constexpr std::string_view kShutdownDisabled = "ERROR: shutdown not enabled\r\n";
inline constexpr std::string_view kShutdownMode = "CLIENT_ERROR invalid shutdown mode\r\n";
inline constexpr std::string_view kStatsDetailUsage =
    "CLIENT_ERROR usage: stats detail on|off|dump\r\n";
inline constexpr std::string_view kBadCommandLine = "CLIENT_ERROR bad command line\r\n";
inline constexpr std::string_view kCachedumpDisabled =
    "CLIENT_ERROR stats cachedump not allowed\r\n";
inline constexpr std::string_view kTooManyConnections = "ERROR Too many open connections\r\n";
inline constexpr std::string_view kMemlimitTooSmall =
    "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n";
inline constexpr std::string_view kMemlimitUnits =
    "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n";

// Longest VALUE header: "VALUE " + 250-byte key + flags + length + CAS + "\r\n".
inline constexpr size_t kMaxValueHeader = 6 + 250 + 3 * 21 + 2;

// Writes "VALUE <key> <flags> <bytes>[ <cas>]\r\n" into buf (kMaxValueHeader bytes); returns
// its length.
size_t FormatValueHeader(char* buf, std::string_view key, uint32_t flags, uint32_t bytes,
                         const uint64_t* cas);
// Writes a decimal number followed by "\r\n" into buf (at least 22 bytes); returns its length.
size_t FormatNumberLine(char* buf, uint64_t value);
// "STAT <name> <value>\r\n"
void AppendStat(std::string& out, std::string_view name, std::string_view value);
void AppendStat(std::string& out, std::string_view name, uint64_t value);

}  // namespace warmcache::protocol::reply
