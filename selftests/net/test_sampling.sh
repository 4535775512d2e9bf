#!/usr/bin/env bash
# test_sampling.sh - [agent] sampling = 10 through the multipath router
# (tc egress + tc ingress), known traffic (UDP flows both ways, a TCP
# transfer), ground truth from fe_traffic.py's captures:
#  - estimates: raw packets and octets of the records x 10 against the
#    truth per direction and in total, within 5 binomial standard
#    deviations (sampling.py says how, and what the false-failure odds are);
#  - collectors read the rate: tshark decodes the sampling options record
#    of the IPFIX and the NetFlow v9 export, nfdump applies it (its records
#    are flowctl collect's raw counts x 10, IPFIX and v9) and nfdump -E
#    shows the sampler; flowctl collect shows the record;
#  - flowctl stats (text and JSON) and /metrics show the rate, and count
#    every packet;
#  - a restart asking for another rate keeps the pinned set's, says so,
#    and states the set's rate.
. "$(dirname "$0")/lib.sh"
fe_require_cmd tshark nfcapd nfdump tcpdump curl
fe_init sampling
fe_topo_up sym

N=10
p_ipfix=$(fe_port)
p_v9=$(fe_port)
p_nf=$(fe_port)
p_nf9=$(fe_port)
p_metrics=$(fe_port)
fe_bg tcpdump tcpdump -i lo --immediate-mode -U -s 0 -w "$FE_TMP/export.pcap" \
	"udp and (port $p_ipfix or port $p_v9)" 2>"$FE_TMP/tcpdump.err"
fe_wait_for 5 grep -q listening "$FE_TMP/tcpdump.err" ||
	fe_fail "tcpdump did not start: $(cat "$FE_TMP/tcpdump.err")"
fe_collect_start ipfix "$p_ipfix"
fe_collect_start v9 "$p_v9"
fe_nfcapd_start nf "$p_nf"
fe_nfcapd_start nf9 "$p_nf9"
{
	fe_agent_conf tc sampling=$N metrics_listen=127.0.0.1:$p_metrics
	fe_collector_conf ipfix "$p_ipfix" no no
	fe_collector_conf v9 "$p_v9" no no version=9
	fe_collector_conf nf "$p_nf" no no
	fe_collector_conf nf9 "$p_nf9" no no version=9
} >"$FE_TMP/agent.ini"
fe_agent_start "$FE_TMP/agent.ini"

fe_gen udp udp --flows 4 --count 5000 --size 300 --interval 0.0005 --echo \
	--port 7101
fe_gen tcp tcp --bytes 1500000 --port 7102 --echo

fe_ctl stats >"$FE_TMP/stats.txt" || fe_fail "flowctl stats failed"
fe_ctl stats --json >"$FE_TMP/stats.json" || fe_fail "flowctl stats --json failed"
curl -s "http://127.0.0.1:$p_metrics/metrics" >"$FE_TMP/metrics.txt" ||
	fe_fail "GET /metrics failed"
fe_agent_stop
fe_collect_stop ipfix
fe_collect_stop v9
fe_nfcapd_stop nf
fe_nfcapd_stop nf9
sleep 1 # tcpdump writes what the kernel still holds
fe_kill tcpdump INT

fe_log "flowctl stats: $(grep -E '^  (sampling|packets) ' "$FE_TMP/stats.txt" | tr -s ' ' | tr '\n' ';')"
grep -qE "^  sampling +$N\$" "$FE_TMP/stats.txt" ||
	fe_fail "flowctl stats shows no 'sampling $N': $(head -3 "$FE_TMP/stats.txt")"
grep -q "\"sampling\":$N," "$FE_TMP/stats.json" ||
	fe_fail "flowctl stats --json has no \"sampling\":$N"
grep -qx "flowexp_sampling_interval $N" "$FE_TMP/metrics.txt" ||
	fe_fail "/metrics: $(grep sampling "$FE_TMP/metrics.txt")"

SMP=$(dirname "$0")/sampling.py
fe_log "estimates (records x $N) against the ground truth:"
python3 "$SMP" estimate -n $N --truth "$FE_TMP/udp.json" "$FE_TMP/tcp.json" \
	--records "$FE_TMP/ipfix.jsonl" --stats "$FE_TMP/stats.json" ||
	fe_fail "the estimates are outside their bounds"
fe_log "the sampling options records:"
python3 "$SMP" options -n $N --collect "$FE_TMP/ipfix.jsonl" \
	--tshark "$FE_TMP/export.pcap" "$p_ipfix" ipfix ||
	fe_fail "the IPFIX sampling record is not what it should be"
python3 "$SMP" options -n $N --tshark "$FE_TMP/export.pcap" "$p_v9" v9 ||
	fe_fail "the NetFlow v9 sampling record is not what it should be"
fe_log "nfdump applies the rate (IPFIX, then v9):"
python3 "$SMP" nfdump -n $N --collect "$FE_TMP/ipfix.jsonl" \
	--nfdump "$FE_TMP/nf.json" || fe_fail "nfdump (IPFIX) did not apply 1 in $N"
python3 "$SMP" nfdump -n $N --collect "$FE_TMP/ipfix.jsonl" \
	--nfdump "$FE_TMP/nf9.json" || fe_fail "nfdump (v9) did not apply 1 in $N"
for d in nf nf9; do
	f=$(ls "$FE_TMP/$d.d"/nfcapd.* | head -1)
	nfdump -E "$f" >"$FE_TMP/$d.exporters" 2>&1
	fe_log "nfdump -E ($d): $(grep -i sampler "$FE_TMP/$d.exporters" | head -2 | tr -s ' ' | tr '\n' ';')"
	grep -qiE "sampler.*(packet interval: 1, packet space: $((N - 1))|interval.*$N)" \
		"$FE_TMP/$d.exporters" || fe_fail "nfdump -E ($d) shows no 1-in-$N sampler: $(cat "$FE_TMP/$d.exporters")"
done

# The pinned set keeps its rate: a restart that asks for 1 in 5 warns and
# states the set's 1 in 10.
fe_log "restart with sampling = 5 over the pinned 1-in-$N set:"
sed -i "s/^sampling = $N\$/sampling = 5/" "$FE_TMP/agent.ini"
grep -q '^sampling = 5$' "$FE_TMP/agent.ini" || fe_fail "could not edit the config"
fe_agent_start "$FE_TMP/agent.ini"
fe_ctl stats --json >"$FE_TMP/stats2.json" || fe_fail "flowctl stats failed"
fe_agent_stop
grep "samples 1 in $N packets" "$FE_TMP/agent.log" ||
	fe_fail "the agent did not say the set samples 1 in $N"
grep -q "\"sampling\":$N," "$FE_TMP/stats2.json" ||
	fe_fail "after the restart flowctl stats says: $(grep -o '"sampling":[0-9]*' "$FE_TMP/stats2.json")"
exit 0
