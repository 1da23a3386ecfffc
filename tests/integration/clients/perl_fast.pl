# SPDX-License-Identifier: BSD-3-Clause
# Cache::Memcached::Fast (Debian libcache-memcached-fast-perl) scenario. Usage: perl_fast.pl PORT
use strict;
use warnings;
use Cache::Memcached::Fast;

my $port = $ARGV[0];
my $m = Cache::Memcached::Fast->new({ servers => ["127.0.0.1:$port"], max_size => 2 * 1024 * 1024,
                                      utf8 => 0 });
my %values = (
  empty => "",
  one => "x",
  k100 => join("", map { chr } 0..255) x 400,
  m1 => substr("\r\n\0binary\r\n" x 104858, 0, 1024 * 1024),
);
for my $k (sort keys %values) {
  print "set $k ", ($m->set($k, $values{$k}) ? 1 : 0), "\n";
  my $got = $m->get($k);
  print "get $k ", (defined $got && $got eq $values{$k} ? 1 : 0), " ", length($got // ""), "\n";
}
my $multi = $m->get_multi(sort(keys %values), "missing");
print "get_multi ", join(",", sort keys %$multi), "\n";
print "delete ", ($m->delete("one") ? 1 : 0), " ", (defined $m->get("one") ? 1 : 0), "\n";
$m->set("n", "10");
print "incr ", $m->incr("n", 5), " ", $m->decr("n", 20), " ", (defined $m->incr("nope") ? 1 : 0), "\n";
print "add ", ($m->add("n", "1") ? 1 : 0), " ", ($m->add("fresh", "1") ? 1 : 0), "\n";
my $g = $m->gets("fresh");
print "cas ", ($m->cas("fresh", @$g[0], "2") ? 1 : 0), " ", $m->get("fresh"), "\n";
$m->set("fresh", "3");
print "cas stale ", ($m->cas("fresh", @$g[0], "4") ? 1 : 0), " ", $m->get("fresh"), "\n";
print "touch ", ($m->touch("fresh", 100) ? 1 : 0), " ", ($m->touch("nope", 100) ? 1 : 0), "\n";
print "append ", ($m->append("fresh", "x") ? 1 : 0), " ", ($m->prepend("fresh", "y") ? 1 : 0), " ",
  $m->get("fresh"), "\n";
my $v = $m->server_versions;
print "version ", (scalar(keys %$v) == 1 ? 1 : 0), "\n";
