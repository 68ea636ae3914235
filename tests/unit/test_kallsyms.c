// SPDX-License-Identifier: GPL-2.0
/* kallsyms: symbolize kernel frames like the kernel ("func+0xoff/0xsize [mod]"),
 * find functions and data symbols by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kallsyms.h"
#include "unit.h"

static const char sample[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81100000 T mutex_lock\n"
	"ffffffff81100040 t mutex_lock.cold\n"
	"ffffffff81100080 T mutex_unlock\n"
	"ffffffff82000000 D pci_bus_type\n"
	"ffffffff82000100 b pci_slot_mutex\n"
	"ffffffff82000200 R pci_bus_type\n"
	"ffffffffc0a01000 t vfio_pci_core_enable\t[vfio_pci_core]\n"
	"ffffffffc0a01200 t vfio_pci_core_close_device\t[vfio_pci_core]\n";

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/hm-kallsyms-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void formats_vmlinux_and_module_frames(void **state)
{
	char *path = write_tmp(sample), err[256], buf[128];
	struct hm_ksyms *ks = hm_ksyms_load(path, err, sizeof(err));
	const char *module = NULL;
	uint64_t addr = 0;

	(void)state;
	assert_non_null(ks);
	assert_true(hm_ksyms_format(ks, 0xffffffff81100010ULL, buf, sizeof(buf)));
	assert_string_equal(buf, "mutex_lock+0x10/0x40");
	assert_true(hm_ksyms_format(ks, 0xffffffffc0a01004ULL, buf, sizeof(buf)));
	assert_string_equal(buf, "vfio_pci_core_enable+0x4/0x200 [vfio_pci_core]");
	/* before the first symbol: unknown */
	assert_false(hm_ksyms_format(ks, 0xffffffff80000000ULL, buf, sizeof(buf)));
	assert_true(hm_ksyms_find(ks, "vfio_pci_core_close_device", &module));
	assert_string_equal(module, "vfio_pci_core");
	assert_true(hm_ksyms_find(ks, "mutex_unlock", &module));
	assert_string_equal(module, "");
	/* data symbols are not functions, nor functions data */
	assert_false(hm_ksyms_find(ks, "pci_bus_type", NULL));
	assert_false(hm_ksyms_find_data(ks, "mutex_lock", NULL));
	/* the first of a name wins; bss is data too */
	assert_true(hm_ksyms_find_data(ks, "pci_bus_type", &addr));
	assert_true(addr == 0xffffffff82000000ULL);
	assert_true(hm_ksyms_find_data(ks, "pci_slot_mutex", &addr));
	assert_true(addr == 0xffffffff82000100ULL);
	assert_false(hm_ksyms_find_data(ks, "device_hotplug_lock", &addr));
	/* data between vmlinux and module text bounds no function */
	assert_true(hm_ksyms_format(ks, 0xffffffff81100090ULL, buf, sizeof(buf)));
	assert_string_equal(buf, "mutex_unlock+0x10/0x3f900f80");
	hm_ksyms_free(ks);
	unlink(path);
	free(path);
}

static void hidden_addresses_are_an_error(void **state)
{
	char *path = write_tmp("0000000000000000 T mutex_lock\n0000000000000000 T mutex_unlock\n");
	char err[256];

	(void)state;
	assert_null(hm_ksyms_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "kptr_restrict"));
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats_vmlinux_and_module_frames),
		cmocka_unit_test(hidden_addresses_are_an_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
