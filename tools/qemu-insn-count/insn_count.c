/* qkern — SPDX-License-Identifier: Apache-2.0
 *
 * insn_count.c: a QEMU TCG plugin that counts the guest instructions a user-mode program executes
 * and prints the total at exit ("insn_count <N>" on stderr, or to the file given as outfile=<path>).
 * One inline 64-bit add per executed translation block (QEMU adds the block's instruction count),
 * so the run is barely slower than without the plugin. Used by count.sh for per-element
 * instruction counts of qkern's kernels under qemu-aarch64.
 *
 * Debian's qemu-user ships the plugin loader (-plugin) but not qemu-plugin.h, so the few entry
 * points used here are declared by hand below, as documented for the QEMU plugin API version 1
 * (QEMU 4.2 to 7.2; QEMU 8 and later accept version-1 plugins too).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed by pointer */
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void* userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb* tb, enum qemu_plugin_op op, void* ptr,
                                              uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void* userdata);

#define QKERN_PLUGIN_EXPORT __attribute__((visibility("default")))

QKERN_PLUGIN_EXPORT int qemu_plugin_version = 1;

static uint64_t executed; /* user mode, one vCPU thread in the programs measured */
static char outfile[4096];

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, qemu_plugin_tb_n_insns(tb));
}

static void at_exit_cb(qemu_plugin_id_t id, void* userdata) {
  (void)id;
  (void)userdata;
  FILE* f = outfile[0] ? fopen(outfile, "w") : stderr;
  if (f == NULL) f = stderr;
  fprintf(f, "insn_count %" PRIu64 "\n", executed);
  if (f != stderr) fclose(f);
}

QKERN_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc, char** argv) {
  (void)info;
  for (int i = 0; i < argc; ++i)
    if (strncmp(argv[i], "outfile=", 8) == 0) snprintf(outfile, sizeof outfile, "%s", argv[i] + 8);
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, at_exit_cb, NULL);
  return 0;
}
