#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Why the warm tier promotes every disk hit into probation (docs/architecture.md): a simulation
# of the RAM tier (segmented LRU, protected = 80%) under zipf(0.99) reads of 1M keys with room
# for 60k, comparing "promote on every disk read" with "promote on the second read within a
# window" (a 64K-slot direct-mapped ghost table). Prints the RAM hit ratio of each.
# Run: python3 bench/admission_sim.py   (about a minute)
import random, bisect, itertools
from collections import OrderedDict
N=1000000; C=60000; theta=0.99; R=1500000
random.seed(1)
w=[1/(i**theta) for i in range(1,N+1)]
cum=list(itertools.accumulate(w)); tot=cum[-1]
reqs=[bisect.bisect_left(cum, random.random()*tot) for _ in range(R)]
def run(admit_second):
    prob=OrderedDict(); prot=OrderedDict(); pcap=int(C*0.8)
    ghost={}  # direct-mapped
    hits=0; disk=0
    for t,k in enumerate(reqs):
        if k in prot: prot.move_to_end(k); hits+=1; continue
        if k in prob:
            del prob[k]; prot[k]=1; hits+=1
            while len(prot)>pcap:
                d,_=prot.popitem(last=False); prob[d]=1
            continue
        disk+=1
        if admit_second:
            s=hash(k)%65536
            if ghost.get(s)!=k: ghost[s]=k; continue
        prob[k]=1
        while len(prob)+len(prot)>C:
            if prob: prob.popitem(last=False)
            else: prot.popitem(last=False)
    return hits/R
print("promote always", run(False))
print("second access", run(True))
