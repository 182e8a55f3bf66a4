/** The pure parts of src/media: which addresses count as private, what yt-dlp's reason is, how long a chunk may be. */
import { describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../../src/media/download';
import { AUDIO_BITRATE_KBPS, chunkSecondsFor } from '../../src/media/ffmpeg';
import { ytDlpReason } from '../../src/media/yt-dlp';

describe('media helpers', () => {
  it('treats loopback, private, link-local, CGNAT, unique-local and mapped addresses as private', () => {
    for (const a of [
      '127.0.0.1',
      '127.8.0.2',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1'])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '142.250.184.14', '2a00:1450:4003::200e', '::ffff:8.8.8.8'])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it("keeps yt-dlp's own reason and drops its report-this-issue boilerplate", () => {
    const stderr =
      'WARNING: [generic] Falling back on generic information extractor\n' +
      "ERROR: [generic] None: Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404: 'Not Found'>); " +
      'please report this issue on  https://github.com/yt-dlp/yt-dlp/issues?q= , filling out the appropriate issue template.\n';
    expect(ytDlpReason(stderr)).toBe('[generic] None: Unable to download webpage: HTTP Error 404: Not Found');
  });

  it('sizes chunks to stay under the byte cap at our bitrate', () => {
    const cap = 24 * 1024 * 1024;
    const seconds = chunkSecondsFor(cap);
    expect((seconds * AUDIO_BITRATE_KBPS * 1000) / 8).toBeLessThan(cap);
    expect(seconds).toBeGreaterThan(45 * 60);
  });
});
