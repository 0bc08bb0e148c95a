export { LabNetwork, type BridgeOptions, type Endpoints, type LabNetworkOptions, type NicInfo, type VmRuntime } from './lab.js';
export { checkNicRecords, type NicRecord } from './nic-records.js';
export { checkState, type NetworkState } from './state.js';
export { LocalBackend, type CaptureControl, type SwitchBackend, type SwitchHandle } from './backend.js';
export { CAPTURE_WINDOW, type CaptureSink } from './capture.js';
export { PCAP_GLOBAL_HEADER, pcapRecordStarts, readPcapRecord, type PcapFrame } from './pcap.js';
export { NetService, RemoteBackend } from './service.js';
export type { NetStats } from './service-protocol.js';
export { Switch, zeroCounters, type PortCounters, type SwitchOptions } from './switch.js';
export {
  CompiledPolicy, emptyImpairments, type BandwidthRule, type BlockReason, type Direction, type DropRule, type Impairments, type LatencyRule, type SwitchPolicy, type Verdict,
} from './impairments.js';
export {
  NIC_FIRST_SLOT, NIC_LAST_SLOT, UPLINK_SLOT, coldNicArgs, hotplugCommands, hotplugNic, macFor, nicIds, setNicLink, type NicDevice, type QmpLike,
} from './qemu-args.js';
export { UPLINK_DNS, UPLINK_GATEWAY, UPLINK_GUEST, UPLINK_NET, uplinkMac } from './qemu-devices.js';
export { RESOLV_BEGIN, RESOLV_END } from './guest-uplink.js';
export { applyGuestConfig, guestScript, isHostName, HOSTS_BEGIN, HOSTS_END, type GuestAgentLike, type GuestNetConfig } from './guest.js';
export { RecordDecoder, encodeRecord, ethernetFrame, macKey, macString, MAX_FRAME } from './frame.js';
export { Rng, seedFrom } from './rng.js';
export { createNetDir, defaultNetRoot, sweepStaleNetDirs } from './dirs.js';
export { FakeNic, BROADCAST, type Received } from './testing.js';
