;; A switchyard policy (ABI v1, docs/policy-abi.md) written directly in the WebAssembly text format:
;; "no canary step above 25 percent". A promotion (`promote --share N`) or a shift (`shift --share N`) may give
;; the candidate at most 25 percent of production traffic; `complete` finishes the switch.
;;
;; It reads no JSON parser: ABI v1 promises that the input starts with `{"abi":1,"change":`, followed by
;; `null` or a flat object whose strings are validated names (no quotes, no braces) and whose `share`, when
;; present, is its last key. So the share is the digits after `"share":` before the first `}`.
;;
;; Run it: `switchyard check --policy examples/policies/canary-25.wat promote v2 --share 30`, or on the
;; change itself: `switchyard promote v2 --share 30 --policy examples/policies/canary-25.wat`.
(module
  (memory (export "memory") 1)

  ;; 0..18: the prefix every ABI v1 input starts with.
  (data (i32.const 0) "{\"abi\":1,\"change\":")
  ;; 32..40: the key looked for.
  (data (i32.const 32) "\"share\":")
  ;; 64: no findings.
  (data (i32.const 64) "{\"findings\":[]}")
  ;; 128: the error answer when the input is not ABI v1.
  (data (i32.const 128) "{\"error\":\"the input does not start with {\\\"abi\\\":1,\\\"change\\\": (ABI v1)\"}")
  ;; 256: the finding, in two halves around the share's digits.
  (data (i32.const 256) "{\"findings\":[{\"code\":\"CANARY25\",\"severity\":\"error\",\"path\":\"change.share\",\"message\":\"a canary step of ")
  (data (i32.const 512) " percent is above the team's limit of 25 percent\",\"hints\":[\"promote with --share 25 or less, then `switchyard complete`\"]}]}")

  ;; The answer is written from 1024; the input goes to 4096 and up.
  (global $out i32 (i32.const 1024))
  (global $in i32 (i32.const 4096))

  ;; Makes room for `len` bytes at 4096 and returns that address.
  (func (export "switchyard_alloc") (param $len i32) (result i32)
    (local $need i32)
    ;; pages needed = ceil((4096 + len) / 65536)
    (local.set $need
      (i32.shr_u (i32.add (i32.add (global.get $in) (local.get $len)) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $need) (memory.size))) (i32.const -1))
          (then (return (i32.const -1))))))
    (global.get $in))

  ;; Whether the `n` bytes at `a` equal those at `b`.
  (func $equal (param $a i32) (param $b i32) (param $n i32) (result i32)
    (block $differ
      (loop $next
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $differ (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; The answer at `ptr` with `len` bytes, packed as ABI v1 returns it.
  (func $answer (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))

  (func (export "switchyard_policy_v1") (param $ptr i32) (param $len i32) (result i64)
    (local $at i32) (local $end i32) (local $digits i32) (local $share i32) (local $c i32) (local $o i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    ;; The prefix, then `null` or `{`.
    (if (i32.or (i32.lt_u (local.get $len) (i32.const 22))
                (i32.eqz (call $equal (local.get $ptr) (i32.const 0) (i32.const 18))))
      (then (return (call $answer (i32.const 128) (i32.const 73)))))
    (local.set $at (i32.add (local.get $ptr) (i32.const 18)))
    (if (i32.eq (i32.load8_u (local.get $at)) (i32.const 110)) ;; 'n': no change, nothing to say
      (then (return (call $answer (i32.const 64) (i32.const 15)))))
    ;; Look for "share": up to the change's closing brace.
    (block $done
      (loop $scan
        (br_if $done (i32.ge_u (i32.add (local.get $at) (i32.const 8)) (local.get $end)))
        (br_if $done (i32.eq (i32.load8_u (local.get $at)) (i32.const 125))) ;; '}'
        (if (call $equal (local.get $at) (i32.const 32) (i32.const 8))
          (then
            (local.set $at (i32.add (local.get $at) (i32.const 8)))
            (local.set $digits (local.get $at))
            ;; The number: at most three digits.
            (block $number
              (loop $digit
                (br_if $number (i32.ge_u (local.get $at) (local.get $end)))
                (local.set $c (i32.load8_u (local.get $at)))
                (br_if $number (i32.or (i32.lt_u (local.get $c) (i32.const 48)) (i32.gt_u (local.get $c) (i32.const 57))))
                (br_if $number (i32.ge_u (i32.sub (local.get $at) (local.get $digits)) (i32.const 3)))
                (local.set $share (i32.add (i32.mul (local.get $share) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
                (local.set $at (i32.add (local.get $at) (i32.const 1)))
                (br $digit)))
            (br $done)))
        (local.set $at (i32.add (local.get $at) (i32.const 1)))
        (br $scan)))
    (if (i32.le_u (local.get $share) (i32.const 25))
      (then (return (call $answer (i32.const 64) (i32.const 15)))))
    ;; The finding: first half, the digits as they were written, second half.
    (local.set $o (global.get $out))
    (memory.copy (local.get $o) (i32.const 256) (i32.const 101))
    (local.set $o (i32.add (local.get $o) (i32.const 101)))
    (memory.copy (local.get $o) (local.get $digits) (i32.sub (local.get $at) (local.get $digits)))
    (local.set $o (i32.add (local.get $o) (i32.sub (local.get $at) (local.get $digits))))
    (memory.copy (local.get $o) (i32.const 512) (i32.const 124))
    (local.set $o (i32.add (local.get $o) (i32.const 124)))
    (call $answer (global.get $out) (i32.sub (local.get $o) (global.get $out))))
)
