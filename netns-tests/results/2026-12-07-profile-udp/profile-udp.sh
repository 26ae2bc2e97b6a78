#!/usr/bin/env bash
# Run as root under both locks: flock /tmp/xenvmc-heavy.lock flock -o /tmp/xenvmc-netns.lock profile-udp.sh OUTDIR; then analyze.sh OUTDIR
# usage: run.sh OUTDIR   (run under both locks)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd); OUT=$1; mkdir -p $OUT; cd $ROOT
SIM=$ROOT/bin/xenvmc-sim; RUN=/run/xenvmc-sim
$SIM down >/dev/null 2>&1 || true
$SIM up --guests 2 > $OUT/up.log 2>&1 || { echo up failed; cat $OUT/up.log; exit 1; }
G1PID=$(cat $RUN/pids/xvmc-g1.pid); G2PID=$(cat $RUN/pids/xvmc-g2.pid)
echo "g1 daemon $G1PID g2 daemon $G2PID" | tee $OUT/pids.txt
cc -O2 -Wall -pthread -g -fno-omit-frame-pointer -o $OUT/tun-copier netns-tests/tun-copier.c
$OUT/tun-copier xvmc-g1 ref0 xvmc-g2 ref0 > $OUT/tun-copier.log 2>&1 & REF=$!
for i in $(seq 100); do grep -q ready $OUT/tun-copier.log && break; sleep 0.05; done
for g in 1 2; do ns=xvmc-g$g
  ip -n $ns link set ref0 mtu 65520 up; ip -n $ns addr add 198.19.1.$g/32 dev ref0
  ip -n $ns route add 198.19.1.$((3-g))/32 dev ref0 src 198.19.1.$g
  ip netns exec $ns sysctl -qw net.ipv4.conf.ref0.rp_filter=0; done
echo "copier $REF tids $(ls /proc/$REF/task | tr '\n' ' ')" | tee -a $OUT/pids.txt
ip netns exec xvmc-g2 iperf3 -s -p 5201 > /dev/null 2>&1 & SRV=$!
sleep 1
ip -n xvmc-g1 route get 198.18.0.2 >> $OUT/pids.txt; ip -n xvmc-g1 route get 198.19.1.2 >> $OUT/pids.txt
# warm-up
ip netns exec xvmc-g1 iperf3 -c 198.18.0.2 -p 5201 -u -b 0 -l 1400 -t 2 >/dev/null 2>&1
threadcpu() { for t in /proc/$1/task/*; do echo "$(basename $t) $(cat $t/comm) $(awk '{print $14+$15}' $t/stat)"; done; }
for path in bypass copier; do for len in 1400 64; do
  R=$OUT/$path-$len; mkdir -p $R
  addr=198.18.0.2; [[ $path == copier ]] && addr=198.19.1.2
  if [[ $path == bypass ]]; then SND=$G1PID; RCV=$G2PID; else SND=$REF; RCV=$REF; fi
  ip netns exec xvmc-g2 nstat -n >/dev/null
  cat /proc/stat | head -1 > $R/stat0
  ip netns exec xvmc-g1 iperf3 -c $addr -p 5201 -u -b 0 -l $len -t 8 -J > $R/iperf3.json 2>$R/iperf3.err & CLI=$!
  sleep 1.5
  CLIPID=$(pgrep -P $CLI iperf3 || echo $CLI)
  threadcpu $SND > $R/sndthreads0; threadcpu $RCV > $R/rcvthreads0; threadcpu $SRV > $R/srv0; threadcpu $CLIPID > $R/cli0
  head -1 /proc/stat > $R/stat1; date +%s.%N > $R/t0
  P=()
  perf stat -e task-clock,context-switches,cpu-migrations -p $SND -o $R/perfstat-snd.txt -- sleep 5 & P+=($!)
  if [[ $path == bypass ]]; then perf stat -e task-clock,context-switches,cpu-migrations -p $RCV -o $R/perfstat-rcv.txt -- sleep 5 & P+=($!); fi
  perf stat -e task-clock,context-switches,cpu-migrations -p $CLIPID -o $R/perfstat-iperfcli.txt -- sleep 5 & P+=($!)
  perf stat -e task-clock,context-switches,cpu-migrations -p $SRV -o $R/perfstat-iperfsrv.txt -- sleep 5 & P+=($!)
  if [[ $path == bypass ]]; then
    perf record -g -F 2999 -p $SND -o $R/snd.data -- sleep 5 2>$R/rec-snd.err & P+=($!)
    perf record -g -F 2999 -p $RCV -o $R/rcv.data -- sleep 5 2>$R/rec-rcv.err & P+=($!)
  else
    perf record -g -F 2999 -p $REF -o $R/ref.data -- sleep 5 2>$R/rec-ref.err & P+=($!)
  fi
  wait "${P[@]}"
  threadcpu $SND > $R/sndthreads1; threadcpu $RCV > $R/rcvthreads1; threadcpu $SRV > $R/srv1; threadcpu $CLIPID > $R/cli1
  head -1 /proc/stat > $R/stat2; date +%s.%N > $R/t1
  wait $CLI
  ip netns exec xvmc-g2 nstat -a > $R/nstat-g2.txt
  ip -n xvmc-g1 -s link show vmc0 > $R/links.txt; ip -n xvmc-g2 -s link show vmc0 >> $R/links.txt
  ip -n xvmc-g1 -s link show ref0 >> $R/links.txt; ip -n xvmc-g2 -s link show ref0 >> $R/links.txt
  echo "done $path $len"
done; done
kill $SRV $REF 2>/dev/null; wait $SRV $REF 2>/dev/null
$SIM down > $OUT/down.log 2>&1
echo finished
