// The verifier's limits: one million processed instructions, and a loop it cannot bound. Each
// costs the verifier seconds, so this object is built once (variant g).
#include "corpus.h"

volatile int limit = 10;

// Nested loops over a bound the verifier cannot narrow: more than 1M instructions to verify.
SEC("socket")
int limit_too_complex(struct __sk_buff* skb) {
  int sum = 0;
  for (int i = 0; i < 2000; i++)
    for (int j = 0; j < 2000; j++)
      if ((i ^ j) == limit) sum += j;
  return sum;
}

SEC("socket")
int limit_neighbour(struct __sk_buff* skb) { return skb->len; }
