#!/bin/bash
# test_shaped_fq_codel.sh - test_shaped_drops.sh with htb and an fq_codel
# leaf on the router's server-side links: exported packets equal the
# server's capture, dropped counts fq_codel's drop counter. SKIP where the
# kernel has no fq_codel.
exec bash "$(dirname "$0")/test_shaped_drops.sh" fq_codel
