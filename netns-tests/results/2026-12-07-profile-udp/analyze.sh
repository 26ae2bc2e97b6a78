#!/usr/bin/env bash
# usage: analyze.sh OUTDIR
OUT=$1
for R in $OUT/*-*/; do
  for d in $R*.data; do
    [[ -f $d ]] || continue
    n=$(basename $d .data)
    if [[ $n == ref ]]; then
      for t in $(perf report -i $d --no-children --sort tid --stdio -g none 2>/dev/null | grep -oE '^ +[0-9.]+% +[0-9]+' | awk '{print $2}'); do
        perf report -i $d --no-children --sort sym --stdio -g none --tid $t 2>/dev/null | grep -v '^$' | head -50 > $R/ref-tid$t-self.txt
        perf report -i $d --children --sort sym --stdio -g none --tid $t 2>/dev/null | grep -v '^$' | head -120 > $R/ref-tid$t-children.txt
      done
      perf report -i $d --no-children --sort tid --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' > $R/ref-tids.txt
    else
      perf report -i $d --no-children --sort sym --stdio -g none 2>/dev/null | grep -v '^$' | head -50 > $R/$n-self.txt
      perf report -i $d --children --sort sym --stdio -g none 2>/dev/null | grep -v '^$' | head -150 > $R/$n-children.txt
      perf report -i $d --no-children --sort tid --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' > $R/$n-tids.txt
    fi
  done
done
