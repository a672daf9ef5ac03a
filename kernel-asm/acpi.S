# The CPUs a PC's firmware lists: the ACPI RSDP (found by the usual scan of the EBDA's first
# KiB and of P0xe0000..P0xfffff on 16-byte boundaries), its RSDT, and the MADT's enabled
# Processor Local APIC entries. Everything is read through the image alias (first GiB); tables above
# it (a machine with more RAM, whose firmware puts them at its top) count as absent.

.intel_syntax noprefix
.include "kemu.inc"

.set BDA_EBDA_SEGMENT, 0x40E
.set RSDP_SIGNATURE_LOW,  0x20445352         # "RSD "
.set RSDP_SIGNATURE_HIGH, 0x20525450         # "PTR "
.set RSDP_CHECKSUMMED, 20                    # the ACPI 1.0 part
.set RSDP_RSDT, 16
.set SDT_LENGTH, 4
.set SDT_HEADER, 36
.set MADT_SIGNATURE, 0x43495041              # "APIC"
.set MADT_ENTRIES, 44
.set MADT_LOCAL_APIC, 0
.set LOCAL_APIC_ID, 3
.set LOCAL_APIC_FLAGS, 4
.set LOCAL_APIC_ENABLED, 1
.set LOCAL_APIC_ENTRY, 8
.set MAX_TABLE, 0x10000                      # the 64 KiB margin kept below the alias's end
.set IMAGE_ALIAS_SIZE, 0x40000000            # boot.S maps physical 0..1 GiB at KERNEL_VMA

.section .text, "ax"
.code64

# acpi_cpus(rdi = array of bytes, rsi = its length) -> rax = enabled local APICs found (0: no MADT);
# the array receives their APIC IDs in MADT order.
.global acpi_cpus
acpi_cpus:
    push rbx
    push r12
    push r13
    mov r12, rdi
    mov r13, rsi
    call acpi_find_rsdp
    test rax, rax
    jz .Lnone
    mov ebx, [rax + RSDP_RSDT]
    cmp rbx, IMAGE_ALIAS_SIZE - 0x10000
    jae .Lnone                               # beyond the image alias: kmain reaches only the first GiB
    movabs rax, KERNEL_VMA
    add rbx, rax                             # RSDT
    mov ecx, [rbx + SDT_LENGTH]
    cmp rcx, MAX_TABLE
    ja .Lnone                                # a length no firmware writes: do not walk off the alias
    add rcx, rbx                             # its end
    lea rdx, [rbx + SDT_HEADER]              # 32-bit table pointers follow the header
.Lnext_table:
    cmp rdx, rcx
    jae .Lnone
    mov r8d, [rdx]
    cmp r8, IMAGE_ALIAS_SIZE - 0x10000
    jae .Lskip_table                         # a table beyond the first GiB: not readable here
    add r8, rax
    cmp dword ptr [r8], MADT_SIGNATURE
    je .Lmadt
.Lskip_table:
    add rdx, 4
    jmp .Lnext_table
.Lmadt:
    mov ecx, [r8 + SDT_LENGTH]
    cmp rcx, MAX_TABLE
    ja .Lnone
    add rcx, r8                              # end of the MADT
    sub rcx, LOCAL_APIC_ENTRY                # an entry is read only when all of it lies inside
    lea rdx, [r8 + MADT_ENTRIES]
    xor eax, eax                             # CPUs found
.Lnext_entry:
    cmp rdx, rcx
    ja .Ldone                                # past the last place a whole local APIC entry fits
    cmp byte ptr [rdx], MADT_LOCAL_APIC
    jne .Lskip
    test dword ptr [rdx + LOCAL_APIC_FLAGS], LOCAL_APIC_ENABLED
    jz .Lskip
    cmp rax, r13
    jae .Lskip                               # more CPUs than the caller has room for
    mov r9b, [rdx + LOCAL_APIC_ID]
    mov [r12 + rax], r9b
    inc rax
.Lskip:
    movzx r9d, byte ptr [rdx + 1]            # entry length
    test r9d, r9d
    jz .Ldone                                # a zero length would loop forever
    add rdx, r9
    jmp .Lnext_entry
.Lnone:
    xor eax, eax
.Ldone:
    pop r13
    pop r12
    pop rbx
    ret

# acpi_find_rsdp -> rax = the RSDP's higher-half address, or 0.
acpi_find_rsdp:
    movabs r8, KERNEL_VMA
    movzx edi, word ptr [r8 + BDA_EBDA_SEGMENT]
    shl edi, 4
    add rdi, r8
    lea rsi, [rdi + 1024]
    call acpi_scan
    test rax, rax
    jnz 1f
    lea rdi, [r8 + 0xe0000]
    lea rsi, [r8 + 0x100000]
    call acpi_scan
1:  ret

# acpi_scan(rdi = start, rsi = end) -> rax = first RSDP with a valid checksum in [start, end), or 0.
acpi_scan:
    cmp rdi, rsi
    jae .Lnot_found
    cmp dword ptr [rdi], RSDP_SIGNATURE_LOW
    jne .Lnext
    cmp dword ptr [rdi + 4], RSDP_SIGNATURE_HIGH
    jne .Lnext
    xor eax, eax
    xor ecx, ecx
2:  add al, [rdi + rcx]
    inc ecx
    cmp ecx, RSDP_CHECKSUMMED
    jb 2b
    test al, al
    jnz .Lnext
    mov rax, rdi
    ret
.Lnext:
    add rdi, 16
    jmp acpi_scan
.Lnot_found:
    xor eax, eax
    ret
