/* Exception entry stubs for vectors 0-31, shared by the protected- and long-mode kernels' .S files:
 * ISR_STUBS common makes isr0..isr31, each pushing a 0 where the CPU pushes no error code (so every
 * frame has one shape), then its vector, and jumping to common; ISR_TABLE word makes isr_table, the
 * 32 stub addresses as .long (32-bit) or .quad (64-bit) entries. */
.altmacro

.macro ISR_STUB vector, common
    .global isr\vector
isr\vector:
    .if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
    .else
    push $0                             /* no error code: keep the frame's shape */
    .endif
    push $\vector
    jmp \common
.endm

.macro ISR_STUBS common
    .set vector, 0
    .rept 32
    ISR_STUB %vector, \common
    .set vector, vector + 1
    .endr
.endm

.macro ISR_TABLE_ENTRY word, vector
    \word isr\vector
.endm

.macro ISR_TABLE word
    .global isr_table
isr_table:
    .set vector, 0
    .rept 32
    ISR_TABLE_ENTRY \word, %vector
    .set vector, vector + 1
    .endr
.endm
