/* siphash.h - SipHash-1-3, a keyed hash for tables whose keys an attacker
 * chooses (5-tuples): with a random key they cannot pick colliding keys.
 */
#ifndef FE_SIPHASH_H
#define FE_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

/* A random key (getrandom; before the pool is ready, a weaker one from
 * the clock and the pid, still per process).
 */
void siphash_key_init(uint64_t key[2]);
uint64_t siphash13(const uint64_t key[2], const void *data, size_t len);

#endif
