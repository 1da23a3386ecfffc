<?php
// SPDX-License-Identifier: BSD-3-Clause
// php-memcached (Debian php-memcached) scenario. Usage: php php_memcached.php PORT text|binary
$port = intval($argv[1]);
$m = new Memcached();
$m->setOption(Memcached::OPT_COMPRESSION, false);
if ($argv[2] === "binary") $m->setOption(Memcached::OPT_BINARY_PROTOCOL, true);
$m->addServer("127.0.0.1", $port);
$values = [
  "empty" => "",
  "one" => "x",
  "k100" => str_repeat(implode("", array_map("chr", range(0, 255))), 400),
  "m1" => substr(str_repeat("\r\n\0binary\r\n", 104858), 0, 1024 * 1024),
];
foreach ($values as $k => $v) {
  echo "set $k ", var_export($m->set($k, $v), true), "\n";
  $got = $m->get($k);
  echo "get $k ", var_export($got === $v, true), " ", strlen((string)$got), "\n";
}
$multi = $m->getMulti(array_merge(array_keys($values), ["missing"]));
ksort($multi);
echo "getMulti ", implode(",", array_keys($multi)), "\n";
$d1 = $m->delete("one");
$d2 = $m->get("one");
echo "delete ", var_export($d1, true), " ", var_export($d2, true), "\n";
// One call per statement: the results are printed after, in a fixed order.
$m->set("n", "10");
$i1 = $m->increment("n", 5);
$i2 = $m->decrement("n", 20);
$i3 = $m->increment("nope");
echo "incr $i1 $i2 ", var_export($i3, true), "\n";
$a1 = $m->add("n", "1");
$a2 = $m->add("fresh", "1");
echo "add ", var_export($a1, true), " ", var_export($a2, true), "\n";
$r = $m->get("fresh", null, Memcached::GET_EXTENDED);
$c1 = $m->cas($r["cas"], "fresh", "2");
echo "cas ", var_export($c1, true), " ", $m->get("fresh"), "\n";
$m->set("fresh", "3");
$c2 = $m->cas($r["cas"], "fresh", "4");
echo "cas stale ", var_export($c2, true), " ", $m->get("fresh"), "\n";
$t1 = $m->touch("fresh", 100);
$t2 = $m->touch("nope", 100);
echo "touch ", var_export($t1, true), " ", var_export($t2, true), "\n";
$p1 = $m->append("fresh", "x");
$p2 = $m->prepend("fresh", "y");
echo "append ", var_export($p1, true), " ", var_export($p2, true), " ", $m->get("fresh"), "\n";
$stats = $m->getStats();
$s = reset($stats);
echo "stats ", var_export(isset($s["curr_items"]), true), " ", var_export(isset($s["version"]), true), "\n";
