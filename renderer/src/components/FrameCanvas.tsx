import { useEffect, useRef } from 'react';

/** RGB bytes (H×W×3) drawn at their own size into a canvas, scaled by CSS; `children` overlay it (landmarks). */
export function FrameCanvas({ rgb, width, height, className, label }: { rgb: Uint8Array; width: number; height: number; className?: string; label?: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    canvas.width = width;
    canvas.height = height;
    const image = new ImageData(width, height);
    for (let p = 0, q = 0; p < width * height * 3; p += 3, q += 4) {
      image.data[q] = rgb[p]!;
      image.data[q + 1] = rgb[p + 1]!;
      image.data[q + 2] = rgb[p + 2]!;
      image.data[q + 3] = 255;
    }
    canvas.getContext('2d')!.putImageData(image, 0, 0);
  }, [rgb, width, height]);
  return <canvas ref={ref} className={className} role="img" aria-label={label} />;
}

/** Frame k of a B×H×W×3 batch. */
export function frameAt(rgb: Uint8Array, width: number, height: number, k: number): Uint8Array {
  const size = width * height * 3;
  return rgb.subarray(k * size, (k + 1) * size);
}
