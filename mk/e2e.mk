# Real hypervisor end-to-end test (docs/e2e.md, tests/e2e/):
#   make e2e   real auditd + libvirtd + qemu guests driven through a scripted
#              lifecycle on two platforms (Debian 12 and Debian 13: the host's
#              own release on the host, the other in a debootstrap root cached
#              in .cache/e2e-root/), the collection run through ansible-playbook
#              on the captured logs and judged by the script's own ground truth;
#              where the platform has auvirt it is run on the same log and its
#              differences written down.
# Needs root (installs Debian's auditd, libvirt and qemu packages when missing);
# elsewhere it is reported as SKIPPED with the reason, never as passed.
# Output: .cache/e2e/PLATFORM/ (logs, ground truth, results, auvirt-differences-*.md).

E2E_OUTPUT := $(CACHE)/e2e

SUITES += e2e

.PHONY: e2e e2e-judge e2e-unmount

e2e: $(VENV_STAMP) stage ## real auditd/libvirtd/qemu end-to-end (root; RAW + ENRICHED logs); results in .cache/e2e/
	@mkdir -p $(LOGS)
	@start=$$(date +%s); \
	VIRTAUDIT_E2E_OUTPUT="$(E2E_OUTPUT)" $(VPY) -m pytest -ra -p no:cacheprovider tests/e2e 2>&1 | tee $(LOGS)/e2e.log; \
	rc=$${PIPESTATUS[0]}; echo "e2e: $$(( $$(date +%s) - start )) s in all" | tee -a $(LOGS)/e2e.log; exit $$rc

e2e-judge: $(VENV_STAMP) stage ## judge the last captures in .cache/e2e/PLATFORM/capture again (no hypervisor needed)
	@ls -d "$(E2E_OUTPUT)"/*/capture >/dev/null 2>&1 || { echo "no capture in $(E2E_OUTPUT)/PLATFORM/capture: run make e2e first"; exit 1; }
	VIRTAUDIT_E2E_REUSE="$(E2E_OUTPUT)" $(VPY) -m pytest -ra -p no:cacheprovider tests/e2e

# A run killed before its tear-down may leave the root's mounts (/dev, /sys,
# /proc ...) in .cache/e2e-root/: undo them before `make clean` deletes .cache
# (rm -rf would descend into them).  Fails (and so stops make clean) when one
# cannot be undone.
e2e-unmount: ## undo mounts a killed e2e run left in .cache/e2e-root (run first by make clean)
	@for m in $$(awk -v r="$(CACHE)/e2e-root/" 'index($$2, r) == 1 {print $$2}' /proc/mounts | sort -r); do \
		echo "e2e-unmount: umount $$m"; umount "$$m" || umount -l "$$m" || exit 1; \
	done

clean: e2e-unmount
