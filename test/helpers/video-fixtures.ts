import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { atLeast, locateFfmpeg, type ToolInfo } from '../../core/video/tools.js';

const run = promisify(execFile);

/**
 * Tiny synthetic media generated with ffmpeg's lavfi sources into a temporary folder (nothing is committed).
 * Each fixture is made on first use and memoized; most are a few seconds and a few kilobytes (the largest, tall60(),
 * is 1 s of 1080x1920 at about 3.5 MB; longLowRes() is 25 minutes of 32x18 in about 100 kB), each made in about a second.
 */
export class VideoFixtures {
  private readonly made = new Map<string, Promise<string>>();

  private constructor(
    readonly dir: string,
    readonly ffmpeg: ToolInfo,
  ) {}

  static async create(): Promise<VideoFixtures> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'trendflow-video-'));
    return new VideoFixtures(dir, await locateFfmpeg());
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** Run ffmpeg with `args` (output path last). */
  async ffmpegRun(args: string[]): Promise<void> {
    await run(this.ffmpeg.path, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { timeout: 60_000 });
  }

  /**
   * Every frame of `file` decoded by a plain ffmpeg call (no fps filter): `filter` (e.g. a scale) then rgb24,
   * `width`×`height` per frame. An independent reference for what a pipeline stored.
   */
  async decodeAllRgb(file: string, filter: string | null, width: number, height: number): Promise<Uint8Array[]> {
    const vf = filter ? [filter, 'format=rgb24'].join(',') : 'format=rgb24';
    const { stdout } = await run(
      this.ffmpeg.path,
      ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-vf', vf, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
      { encoding: 'buffer', maxBuffer: 512 * 1024 * 1024, timeout: 60_000 },
    );
    const frameBytes = width * height * 3;
    if (stdout.length % frameBytes !== 0) throw new Error(`ffmpeg gave ${stdout.length} bytes, not a multiple of ${frameBytes}`);
    const frames: Uint8Array[] = [];
    for (let offset = 0; offset < stdout.length; offset += frameBytes) frames.push(new Uint8Array(stdout.subarray(offset, offset + frameBytes)));
    return frames;
  }

  private once(name: string, make: (out: string) => Promise<void>): Promise<string> {
    let made = this.made.get(name);
    if (!made) {
      const out = this.path(name);
      made = make(out).then(() => out);
      this.made.set(name, made);
    }
    return made;
  }

  private get vfrFlag(): string[] {
    return atLeast(this.ffmpeg, 5, 1) ? ['-fps_mode', 'vfr'] : ['-vsync', 'vfr'];
  }

  private x264(gop?: number): string[] {
    return ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', ...(gop ? ['-g', String(gop)] : [])];
  }

  /** 64x48, 10 fps, 3 s: red 0–1 s, green 1–2 s, blue 2–3 s; no audio. */
  colors(): Promise<string> {
    return this.once('colors.mp4', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'color=c=red:s=64x48:r=10:d=1'],
        ...['-f', 'lavfi', '-i', 'color=c=green:s=64x48:r=10:d=1'],
        ...['-f', 'lavfi', '-i', 'color=c=blue:s=64x48:r=10:d=1'],
        ...['-filter_complex', '[0][1][2]concat=n=3:v=1:a=0'],
        ...this.x264(10),
        out,
      ]),
    );
  }

  /** 128x72 testsrc2 at 25 fps for 2 s with a 440 Hz stereo sine (48 kHz AAC). */
  tone128x72(): Promise<string> {
    return this.once('tone_128x72.mp4', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'testsrc2=s=128x72:r=25:d=2'],
        ...['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000:d=2'],
        ...['-filter_complex', '[1]pan=stereo|c0=c0|c1=c0[a]', '-map', '0:v', '-map', '[a]'],
        ...this.x264(),
        ...['-c:a', 'aac', '-b:a', '96k'],
        out,
      ]),
    );
  }

  /** 80x48, 10 fps, 1 s: left half red, right half blue. */
  leftRight(): Promise<string> {
    return this.once('left_right.mp4', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'color=c=red:s=40x48:r=10:d=1'],
        ...['-f', 'lavfi', '-i', 'color=c=blue:s=40x48:r=10:d=1'],
        ...['-filter_complex', '[0][1]hstack'],
        ...this.x264(),
        out,
      ]),
    );
  }

  /**
   * leftRight() with a 90° display rotation, stream-copied. ffmpeg ≥ 6 sets it with `-display_rotation` on the
   * input; ffmpeg 5 (Debian 12) with the legacy `rotate` stream tag, which its muxer turns into a display matrix.
   */
  rotated(): Promise<string> {
    return this.once('left_right_rotated.mp4', async (out) => {
      const source = await this.leftRight();
      const args = atLeast(this.ffmpeg, 6)
        ? ['-display_rotation', '90', '-i', source, '-c', 'copy', out]
        : ['-i', source, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', out];
      await this.ffmpegRun(args);
    });
  }

  /**
   * Variable frame rate in Matroska: red at 100 fps for 1.03 s, then green at 25 fps for 1 s, then blue at 10 fps
   * for 1 s. The red→green change at 1.03 s falls between the 10 fps sampling instants 1.0 and 1.1.
   */
  vfr(): Promise<string> {
    return this.once('vfr.mkv', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'color=c=red:s=32x24:r=100:d=1.03'],
        ...['-f', 'lavfi', '-i', 'color=c=green:s=32x24:r=25:d=1'],
        ...['-f', 'lavfi', '-i', 'color=c=blue:s=32x24:r=10:d=1'],
        ...['-filter_complex', '[0][1][2]concat=n=3:v=1:a=0'],
        ...this.vfrFlag,
        ...this.x264(),
        out,
      ]),
    );
  }

  /** Constant 50 fps for 14 s (700 packets: more than probeVideo reads at the start), 32x32. */
  cfrLong(): Promise<string> {
    return this.once('cfr_long.mp4', (out) =>
      this.ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=s=32x32:r=50:d=14', ...this.x264(50), out]),
    );
  }

  /**
   * Constant 30 fps for 25 s (750 packets) with B-frames (x264 veryfast: 3 B-frames, decode order ≠ presentation
   * order), 64x36: a sampled window must not mistake the reordering at its edges for a variable rate.
   */
  cfrLongBFrames(): Promise<string> {
    return this.once('cfr_long_bframes.mp4', (out) =>
      this.ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=s=64x36:r=30:d=25', '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '3', '-pix_fmt', 'yuv420p', out]),
    );
  }

  /** 50 fps for 6 s, 25 fps for 4 s, 50 fps for 6 s (700 packets), 32x32: the middle differs from the ends. */
  vfrLong(): Promise<string> {
    return this.once('vfr_long.mkv', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'testsrc2=s=32x32:r=50:d=6'],
        ...['-f', 'lavfi', '-i', 'testsrc2=s=32x32:r=25:d=4'],
        ...['-f', 'lavfi', '-i', 'testsrc2=s=32x32:r=50:d=6'],
        ...['-filter_complex', '[0][1][2]concat=n=3:v=1:a=0'],
        ...this.vfrFlag,
        ...this.x264(50),
        out,
      ]),
    );
  }

  /** 3 s testsrc2 320x240 at 25 fps (75 frames): large enough frames to observe back-pressure. */
  big(): Promise<string> {
    return this.once('big.mp4', (out) => this.ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=s=320x240:r=25:d=3', ...this.x264(), out]));
  }

  /**
   * 160x90 at 24 fps, 8 s, four shots of 2 s: testsrc2, smptebars, rgbtestsrc, testsrc. Hard cuts at 2, 4 and
   * 6 s (analysis frames 24, 48, 72 at 12 fps); inside the last shot a white flash of two source frames (1/12 s,
   * exactly one 12 fps analysis frame) at 7.0 s, which is not a cut.
   */
  hardCuts(): Promise<string> {
    return this.once('hard_cuts.mp4', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=24:d=2'],
        ...['-f', 'lavfi', '-i', 'smptebars=s=160x90:r=24:d=2'],
        ...['-f', 'lavfi', '-i', 'rgbtestsrc=s=160x90:r=24:d=2'],
        ...['-f', 'lavfi', '-i', 'testsrc=s=160x90:r=24:d=2'],
        ...[
          '-filter_complex',
          '[0]format=yuv420p[a];[1]format=yuv420p[b];[2]format=yuv420p[c];' +
            "[3]format=yuv420p,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='between(t,1.0,1.07)'[d];" +
            '[a][b][c][d]concat=n=4:v=1:a=0',
        ],
        ...this.x264(48),
        out,
      ]),
    );
  }

  /** 1080x1920 (portrait as stored, no rotation tag) testsrc2 at 60 fps for 1 s: every frame differs. */
  tall60(): Promise<string> {
    return this.once('tall_1080x1920_60fps.mp4', (out) =>
      this.ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=s=1080x1920:r=60:d=1', ...this.x264(60), out]),
    );
  }

  /** 64x36 at 24 fps for 40 s (960 frames): colour ramps that shift with the frame number, so every frame differs. */
  moving40s(): Promise<string> {
    const pattern = "geq=r='mod(4*X+9*N,256)':g='mod(7*Y+5*N,256)':b='mod(3*(X+Y)+3*N,256)'";
    return this.once('moving_64x36_40s.mp4', (out) =>
      this.ffmpegRun(['-f', 'lavfi', '-i', `color=c=black:s=64x36:r=24:d=40,${pattern}`, ...this.x264(48), out]),
    );
  }

  /**
   * 25 minutes at 32x18 and 4 fps (6000 frames, about 100 kB, about a second to make): a new flat colour every 2 s,
   * so 749 hard cuts.
   */
  longLowRes(): Promise<string> {
    const colour = (k: number, offset: number): string => `mod(floor(T/2)*${k}+${offset},256)`;
    return this.once('long_25min_32x18.mp4', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', `color=c=black:s=32x18:r=4:d=1500,geq=r='${colour(67, 0)}':g='${colour(131, 40)}':b='${colour(199, 90)}'`],
        ...this.x264(240),
        out,
      ]),
    );
  }

  /** A single red 32x24 frame (0.1 s at 10 fps). */
  singleFrame(): Promise<string> {
    return this.once('single_frame.mp4', (out) =>
      this.ffmpegRun(['-f', 'lavfi', '-i', 'color=c=red:s=32x24:r=10', '-frames:v', '1', ...this.x264(), out]),
    );
  }

  /** Stereo 48 kHz 16-bit WAV, 1.5 s: left = 440 Hz sine (amplitude 1/8), right = `right`. */
  wav(name: 'tone.wav' | 'left_only.wav'): Promise<string> {
    const right = name === 'tone.wav' ? 'c0' : '0*c0';
    return this.once(name, (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000:d=1.5'],
        ...['-af', `pan=stereo|c0=c0|c1=${right}`],
        ...['-c:a', 'pcm_s16le'],
        out,
      ]),
    );
  }

  /** 1 s AAC in .m4a (audio only). */
  m4a(): Promise<string> {
    return this.once('tone.m4a', (out) => this.ffmpegRun(['-f', 'lavfi', '-i', 'sine=f=440:d=1', '-c:a', 'aac', out]));
  }

  /** MP3 with a PNG cover picture: ffprobe lists a video stream, but it is only cover art. */
  mp3WithCover(): Promise<string> {
    return this.once('cover.mp3', async (out) => {
      const cover = await this.stillImage();
      await this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'sine=f=440:d=1', '-i', cover],
        ...['-map', '0', '-map', '1', '-c:a', 'libmp3lame', '-c:v', 'png', '-disposition:v', 'attached_pic'],
        out,
      ]);
    });
  }

  /** 2 s video whose audio (16 kHz PCM sine) starts at 0.5 s. */
  offsetAudio(): Promise<string> {
    return this.once('offset_audio.mkv', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'color=c=gray:s=32x24:r=10:d=2'],
        ...['-itsoffset', '0.5', '-f', 'lavfi', '-i', 'sine=f=440:sample_rate=16000:d=1'],
        ...['-map', '0', '-map', '1'],
        ...this.x264(),
        ...['-c:a', 'pcm_s16le'],
        out,
      ]),
    );
  }

  /** A single 64x48 PNG. */
  stillImage(): Promise<string> {
    return this.once('still.png', (out) => this.ffmpegRun(['-f', 'lavfi', '-i', 'color=c=red:s=64x48', '-frames:v', '1', out]));
  }

  empty(): Promise<string> {
    return this.once('empty.mp4', (out) => writeFile(out, new Uint8Array(0)));
  }

  textFile(name: 'notes.txt' | 'notes.mp4'): Promise<string> {
    return this.once(name, (out) => writeFile(out, 'This is not a video.\nJust two lines of text.\n', 'utf8'));
  }

  /** 64 KiB of deterministic pseudo-random bytes (xorshift32), named .mp4. */
  randomBytes(): Promise<string> {
    return this.once('random.mp4', (out) => {
      const bytes = new Uint8Array(64 * 1024);
      let x = 0x9e3779b9;
      for (let i = 0; i < bytes.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        bytes[i] = x & 0xff;
      }
      return writeFile(out, bytes);
    });
  }

  /** A 3 s MP4 (index `moov` at the end) cut to 60 % of its bytes: the index is gone. */
  truncatedIndexMissing(): Promise<string> {
    return this.once('truncated_no_index.mp4', async (out) => {
      const whole = this.path('moov_at_end_whole.mp4');
      await this.ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10:d=3', ...this.x264(10), whole]);
      const bytes = await readFile(whole);
      await writeFile(out, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    });
  }

  /** colors.mp4 (tiny: its index is half of the file) cut to 60 %: only part of the index is left. */
  truncatedIndexPartial(): Promise<string> {
    return this.once('truncated_partial_index.mp4', async (out) => {
      const bytes = await readFile(await this.colors());
      await writeFile(out, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    });
  }

  /** A 3 s `+faststart` MP4 (index first) cut to half of its bytes: the index promises frames the file lacks. */
  truncatedFaststart(): Promise<string> {
    return this.once('truncated_faststart.mp4', async (out) => {
      const whole = this.path('faststart_whole.mp4');
      await this.ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=s=64x48:r=10:d=3', ...this.x264(10), '-movflags', '+faststart', whole]);
      const bytes = await readFile(whole);
      await writeFile(out, bytes.subarray(0, Math.floor(bytes.length * 0.5)));
    });
  }

  /** A one-frame MP4 whose durations (mvhd, tkhd, mdhd, edit list, sample deltas) are patched to zero. */
  zeroDuration(): Promise<string> {
    return this.once('zero_duration.mp4', async (out) => {
      const one = this.path('one_frame.mp4');
      await this.ffmpegRun(['-f', 'lavfi', '-i', 'color=c=red:s=32x24:r=10', '-frames:v', '1', ...this.x264(), one]);
      const bytes = new Uint8Array(await readFile(one));
      zeroMp4Durations(bytes);
      await writeFile(out, bytes);
    });
  }

  /** A copy of colors.mp4 at a path with Cyrillic, CJK, a check mark and spaces. */
  nonAscii(): Promise<string> {
    return this.once('видео 動画 ✓.mp4', async (out) => copyFile(await this.colors(), out));
  }

  /** A copy of colors.mp4 whose name starts with `-` and contains `:` (option- and protocol-like). */
  awkwardName(): Promise<string> {
    return this.once('-i:weird name.mp4', async (out) => copyFile(await this.colors(), out));
  }

  /**
   * 320x180 at 24 fps, 15 s (180 analysis frames at 12 fps), shots with known boundaries for cut_detection:
   * testsrc2 | hard cut at 2.0 s | smptehdbars | 3.5 s | mandelbrot | 5.5 s | a fast pan over a wide testsrc2
   * (380 px/s, the colours under the frame change as it moves) with a white flash of two source frames at 6.5 s |
   * 8.0 s | rgbtestsrc fading out to black over 9.0–9.5 s, then testsrc fading in over 9.5–10.0 s | a 1 s
   * cross-dissolve (xfade) from 11.0 to 12.0 s into yuvtestsrc | 13.5 s | cellauto to the end. On the 12 fps
   * analysis timeline: hard cuts at frames 24, 42, 66, 96 and 162, the flash at 78, the fade's black frame at 114
   * and the dissolve's middle at 138.
   */
  cutSuite(): Promise<string> {
    return this.once('cut_suite.mp4', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=2'],
        ...['-f', 'lavfi', '-i', 'smptehdbars=s=320x180:r=24:d=1.5'],
        ...['-f', 'lavfi', '-i', 'mandelbrot=s=320x180:r=24'],
        ...['-f', 'lavfi', '-i', 'testsrc2=s=1280x180:r=24:d=2.5'],
        ...['-f', 'lavfi', '-i', 'rgbtestsrc=s=320x180:r=24:d=1.5'],
        ...['-f', 'lavfi', '-i', 'testsrc=s=320x180:r=24:d=2.5'],
        ...['-f', 'lavfi', '-i', 'yuvtestsrc=s=320x180:r=24:d=2.5'],
        ...['-f', 'lavfi', '-i', 'cellauto=s=320x180:r=24:rule=110'],
        ...[
          '-filter_complex',
          '[0]format=yuv420p,setsar=1[s1];[1]format=yuv420p,setsar=1[s2];' +
            '[2]trim=duration=2,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[s3];' +
            "[3]crop=320:180:x='t*380':y=0,format=yuv420p,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='between(t,1.0,1.07)',setsar=1[s4];" +
            '[4]format=yuv420p,fade=t=out:st=1.0:d=0.5,setsar=1[s5];[5]format=yuv420p,fade=t=in:st=0:d=0.5,setsar=1[s6];' +
            '[6]format=yuv420p,setsar=1[s7];[7]trim=duration=1.5,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[s8];' +
            '[s6][s7]xfade=transition=fade:duration=1:offset=1.5[s67];' +
            '[s1][s2][s3][s4][s5][s67][s8]concat=n=7:v=1:a=0',
        ],
        ...this.x264(48),
        out,
      ]),
    );
  }

  /**
   * cutSuite() four times over (60 s, 720 analysis frames): long enough that the Segmenter stores only part of
   * the analysis frames for cut_detection (its budget) besides the dense windows around candidates. Boundaries
   * repeat every 180 analysis frames, plus a hard cut at each joint (180, 360, 540).
   */
  cutSuiteLong(): Promise<string> {
    return this.once('cut_suite_x4.mp4', async (out) => this.ffmpegRun(['-stream_loop', '3', '-i', await this.cutSuite(), '-c', 'copy', out]));
  }

  /** 320x180 at 24 fps, 4 s: smptehdbars cross-dissolving from 1 s to 3 s into its mirror image (same colours). */
  mirrorDissolve(): Promise<string> {
    return this.once('mirror_dissolve.mp4', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'smptehdbars=s=320x180:r=24:d=3'],
        ...['-f', 'lavfi', '-i', 'smptehdbars=s=320x180:r=24:d=3'],
        ...['-filter_complex', '[1]hflip[b];[0][b]xfade=transition=fade:duration=2:offset=1,format=yuv420p'],
        ...this.x264(48),
        out,
      ]),
    );
  }

  /**
   * 320x180 at 24 fps, 2 s, two shots (testsrc2 for 1 s, then smptehdbars), as made (`original`) or degraded:
   * `blurred` (Gaussian blur, sigma 4), `dark` (luma scaled by 0.35: under-exposed) or `noisy` (strong temporal
   * noise).
   */
  qualityVariant(kind: 'original' | 'blurred' | 'dark' | 'noisy'): Promise<string> {
    const filter = { original: 'null', blurred: 'gblur=sigma=4', dark: 'lutyuv=y=val*0.35', noisy: 'noise=alls=40:allf=t' }[kind];
    return this.once(`quality_${kind}.mp4`, (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=1'],
        ...['-f', 'lavfi', '-i', 'smptehdbars=s=320x180:r=24:d=1'],
        ...['-filter_complex', `[0]format=yuv420p,setsar=1[a];[1]format=yuv420p,setsar=1[b];[a][b]concat=n=2:v=1:a=0,${filter}`],
        ...this.x264(48),
        ...['-crf', '12'],
        out,
      ]),
    );
  }

  /**
   * Audio synthesized by ffmpeg's `aevalsrc` as a float WAV (no quantization): one expression per channel, in
   * ffmpeg's expression language with `t` in seconds (e.g. `0.0708*sin(2*PI*1000*t)`), at `sampleRate` for
   * `seconds`; one or two expressions are tagged mono or stereo. Named after its arguments, so equal requests share
   * one file.
   */
  synthWav(channelExpressions: string[], sampleRate: number, seconds: number): Promise<string> {
    const exprs = channelExpressions.join('|');
    const name = `synth_${VideoFixtures.digest(`${exprs}/${sampleRate}/${seconds}`)}.wav`;
    return this.once(name, (out) =>
      this.ffmpegRun(['-f', 'lavfi', '-i', VideoFixtures.aevalsrc(channelExpressions, sampleRate, seconds), '-c:a', 'pcm_f32le', out]),
    );
  }

  /**
   * A 32x24 gray video (5 fps) of `seconds` with `synthWav`-style audio as float PCM in Matroska (exact samples
   * through the container); `channelExpressions: null` makes a video without any audio stream.
   */
  synthVideo(channelExpressions: string[] | null, sampleRate: number, seconds: number): Promise<string> {
    const exprs = channelExpressions?.join('|') ?? 'none';
    const name = `synth_video_${VideoFixtures.digest(`${exprs}/${sampleRate}/${seconds}`)}.mkv`;
    return this.once(name, (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', `color=c=gray:s=32x24:r=5:d=${seconds}`],
        ...(channelExpressions ? ['-f', 'lavfi', '-i', VideoFixtures.aevalsrc(channelExpressions, sampleRate, seconds), '-c:a', 'pcm_f32le'] : []),
        ...this.x264(),
        out,
      ]),
    );
  }

  /**
   * A click track: a 2 kHz burst decaying with a 12.5 ms time constant on every beat at `bpm`, mono float WAV at
   * 22.05 kHz (peak 0.5).
   */
  clickTrack(bpm: number, seconds: number): Promise<string> {
    return this.synthWav([`0.5*sin(2*PI*2000*t)*exp(-80*mod(t,60/${bpm}))`], 22_050, seconds);
  }

  private static aevalsrc(channelExpressions: string[], sampleRate: number, seconds: number): string {
    const layout = channelExpressions.length === 1 ? ':c=mono' : channelExpressions.length === 2 ? ':c=stereo' : '';
    return `aevalsrc='${channelExpressions.join('|')}':s=${sampleRate}:d=${seconds}${layout}`;
  }

  /** 32-bit FNV-1a of a string as 8 hex digits: a short, stable file name for generated fixtures. */
  private static digest(text: string): string {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
    return hash.toString(16).padStart(8, '0');
  }

  /**
   * A photo (any image file ffmpeg reads) shown for `photoSeconds`, then `greySeconds` of plain grey, 640x360 at
   * 10 fps: the photo scaled to fit and centred on black bars. For face tests where faces exist only at the start.
   */
  photoThenGrey(photo: string, photoSeconds = 2, greySeconds = 4): Promise<string> {
    return this.once(`photo_then_grey_${path.parse(photo).name}_${photoSeconds}_${greySeconds}.mp4`, (out) =>
      this.ffmpegRun([
        ...['-loop', '1', '-framerate', '10', '-t', String(photoSeconds), '-i', photo],
        ...['-f', 'lavfi', '-i', `color=c=gray:s=640x360:r=10:d=${greySeconds}`],
        ...[
          '-filter_complex',
          '[0]scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[a];' +
            '[1]format=yuv420p[b];[a][b]concat=n=2:v=1:a=0',
        ],
        ...this.x264(10),
        out,
      ]),
    );
  }

  /**
   * A 320x180 grey texture panning left by `pixelsPerFrame` pixels every frame, 10 fps for 2 s (optical-flow tests:
   * the content of frame N at x is that of frame 0 at x + N·pixelsPerFrame).
   */
  pannedTexture(pixelsPerFrame: number): Promise<string> {
    const x = `(X+${pixelsPerFrame}*N)`;
    const texture = `128+50*sin(${x}/5)*cos(Y/7)+40*sin(${x}/11+Y/3)`;
    return this.once(`panned_texture_${pixelsPerFrame}.mp4`, (out) =>
      this.ffmpegRun(['-f', 'lavfi', '-i', `color=c=black:s=320x180:r=10:d=2,format=gray,geq=lum='${texture}'`, ...this.x264(), out]),
    );
  }

  /** 64x48 white fading in from black over 3 s at 10 fps: every frame brighter than the one before. */
  fadeIn(): Promise<string> {
    return this.once('fade_in.mp4', (out) => this.ffmpegRun(['-f', 'lavfi', '-i', 'color=c=white:s=64x48:r=10:d=3,fade=t=in:st=0:d=3', ...this.x264(), out]));
  }

  /**
   * 160x90 testsrc2 at 25 fps for 30 s with a 440 Hz mono sine (AAC): a video whose analysis takes long enough
   * (hundreds of frames to decode and embed) to be interrupted mid-way.
   */
  longTestsrc(): Promise<string> {
    return this.once('long_testsrc.mp4', (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=25:d=30'],
        ...['-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000:d=30'],
        ...this.x264(50),
        ...['-c:a', 'aac', '-b:a', '64k', '-shortest'],
        out,
      ]),
    );
  }

  /**
   * `count` distinct tiny videos (64x36, 10 fps, 2 s, no audio: a colour, then a cut to another colour), each with
   * its own bytes and so its own video_id; for queue tests that need many quick jobs.
   */
  async distinctShorts(count: number): Promise<string[]> {
    const files: string[] = [];
    for (let i = 0; i < count; i++) {
      const first = ((i * 2654435761) >>> 8) & 0xffffff;
      const second = first ^ 0xa5a5a5;
      const hex = (rgb: number): string => `0x${rgb.toString(16).padStart(6, '0')}`;
      files.push(
        await this.once(`short_${String(i).padStart(3, '0')}.mp4`, (out) =>
          this.ffmpegRun([
            ...['-f', 'lavfi', '-i', `color=c=${hex(first)}:s=64x36:r=10:d=1`],
            ...['-f', 'lavfi', '-i', `color=c=${hex(second)}:s=64x36:r=10:d=1`],
            ...['-filter_complex', '[0][1]concat=n=2:v=1:a=0'],
            ...this.x264(10),
            out,
          ]),
        ),
      );
    }
    return files;
  }

  /**
   * 160x90 testsrc2 at 25 fps for 60 s, no audio (about 300 kB): a video whose analysis takes several seconds even
   * with a light component, so a test can stop or kill the process analysing it mid-way.
   */
  slowJob(): Promise<string> {
    return this.once('slow_job_60s.mp4', (out) => this.ffmpegRun(['-f', 'lavfi', '-i', 'testsrc2=s=160x90:r=25:d=60', ...this.x264(50), out]));
  }

  /**
   * 320x180 at 24 fps, 8 s: four 2 s shots joined by hard cuts at 2, 4 and 6 s — testsrc2 | smptehdbars | `photo`
   * (scaled to fit, centred on black bars) | mandelbrot — with mono audio (AAC): a 440 Hz sine at a quarter of
   * full scale for the first 4 s and half after, and a 30 ms 1 kHz click every 0.5 s (120 BPM). The workstation's
   * views fixture: every shot distinct (cuts), real faces in shot 3 only (core_face_landmarks), a loudness step, a beat.
   */
  shotsWithPhoto(photo: string): Promise<string> {
    return this.once(`shots_with_${path.parse(photo).name}.mp4`, (out) =>
      this.ffmpegRun([
        ...['-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=24:d=2'],
        ...['-f', 'lavfi', '-i', 'smptehdbars=s=320x180:r=24:d=2'],
        ...['-loop', '1', '-framerate', '24', '-t', '2', '-i', photo],
        ...['-f', 'lavfi', '-i', 'mandelbrot=s=320x180:r=24'],
        ...['-f', 'lavfi', '-i', 'aevalsrc=exprs=if(lt(t\\,4)\\,0.25\\,0.5)*sin(2*PI*440*t)+0.4*lt(mod(t\\,0.5)\\,0.03)*sin(2*PI*1000*t):s=48000:d=8'],
        ...[
          '-filter_complex',
          '[0]format=yuv420p,setsar=1[s1];[1]format=yuv420p,setsar=1[s2];' +
            '[2]scale=320:180:force_original_aspect_ratio=decrease,pad=320:180:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[s3];' +
            '[3]trim=duration=2,setpts=PTS-STARTPTS,format=yuv420p,setsar=1[s4];' +
            '[s1][s2][s3][s4]concat=n=4:v=1:a=0[v]',
        ],
        ...['-map', '[v]', '-map', '4:a'],
        ...this.x264(48),
        ...['-c:a', 'aac', '-b:a', '64k'],
        out,
      ]),
    );
  }
}

/** Set every duration field of a (version 0) MP4 to zero, walking the box tree. */
function zeroMp4Durations(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const containers = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts']);
  const walk = (start: number, end: number): void => {
    let offset = start;
    while (offset + 8 <= end) {
      const size = view.getUint32(offset);
      const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
      if (size < 8) return;
      const body = offset + 8;
      if (containers.has(type)) walk(body, offset + size);
      else if (type === 'mvhd') view.setUint32(body + 16, 0);
      else if (type === 'tkhd') view.setUint32(body + 20, 0);
      else if (type === 'mdhd') view.setUint32(body + 16, 0);
      else if (type === 'elst') {
        const entries = view.getUint32(body + 4);
        for (let i = 0; i < entries; i++) view.setUint32(body + 8 + i * 12, 0);
      } else if (type === 'stts') {
        const entries = view.getUint32(body + 4);
        for (let i = 0; i < entries; i++) view.setUint32(body + 8 + i * 8 + 4, 0);
      }
      offset += size;
    }
  };
  walk(0, bytes.length);
}

/** Mean colour of a frame region (rgb24, row-major). */
export function meanRgb(data: Uint8Array, width: number, x0: number, y0: number, x1: number, y1: number): [number, number, number] {
  let r = 0;
  let g = 0;
  let b = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * width + x) * 3;
      r += data[o] ?? 0;
      g += data[o + 1] ?? 0;
      b += data[o + 2] ?? 0;
      n++;
    }
  }
  return [r / n, g / n, b / n];
}

/** Mean absolute difference of two equally long byte arrays. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** 'R' | 'G' | 'B' for a frame that is predominantly one primary colour, else '?'. */
export function dominant(rgb: [number, number, number]): 'R' | 'G' | 'B' | '?' {
  const [r, g, b] = rgb;
  if (r > 180 && g < 60 && b < 60) return 'R';
  if (g > 90 && r < 60 && b < 60) return 'G';
  if (b > 180 && r < 60 && g < 60) return 'B';
  return '?';
}
