/**
 * The document, rendered in the page with pdf.js: every page a canvas in one scrolling column, drawn when it
 * comes near the screen, with the position ("page 2 of 5") and zoom. It tells its owner, truthfully, when
 * the first page has been drawn on screen and when the last page has been drawn and scrolled into view:
 * those two moments are the signer's `viewed` and `last_page_reached` evidence.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { PDFDocumentProxy, RenderTask } from 'pdfjs-dist';
import type { Translate } from '../../../i18n';

export interface DocumentViewerProps {
  bytes: Uint8Array;
  t: Translate;
  /** The first page drawn and on screen, whichever it is (said once). */
  onDisplayed(page: number, pageCount: number): void;
  onLastPageReached(pageCount: number): void;
  /** This device could not display the document (the page then offers the download as the way to read it). */
  onFailed(): void;
}

const zoomSteps = [0.5, 0.75, 1, 1.25, 1.5, 2, 3];

async function loadPdf(bytes: Uint8Array): Promise<PDFDocumentProxy> {
  const pdfjs = await import('pdfjs-dist');
  pdfjs.GlobalWorkerOptions.workerSrc = '/assets/pdfjs/build/pdf.worker.min.mjs';
  return pdfjs.getDocument({
    data: bytes.slice(), // pdf.js takes ownership of what it is given; the page keeps its copy for the download
    cMapUrl: '/assets/pdfjs/cmaps/',
    cMapPacked: true,
    standardFontDataUrl: '/assets/pdfjs/standard_fonts/',
    wasmUrl: '/assets/pdfjs/wasm/',
    iccUrl: '/assets/pdfjs/iccs/',
    isEvalSupported: false,
    enableXfa: false,
  }).promise;
}

export function DocumentViewer({ bytes, t, onDisplayed, onLastPageReached, onFailed }: DocumentViewerProps) {
  const [pdf, setPdf] = useState<PDFDocumentProxy | undefined>();
  const [failed, setFailed] = useState(false);
  const [zoom, setZoom] = useState(1);
  const [currentPage, setCurrentPage] = useState(1);
  const [aspects, setAspects] = useState<number[]>([]);
  const displayedOnce = useRef(false);

  useEffect(() => {
    let cancelled = false;
    let loaded: PDFDocumentProxy | undefined;
    loadPdf(bytes)
      .then(async (document) => {
        loaded = document;
        // Page shapes first, so the column has its final height before anything is drawn.
        const shapes: number[] = [];
        for (let number = 1; number <= document.numPages; number++) {
          const viewport = (await document.getPage(number)).getViewport({ scale: 1 });
          shapes.push(viewport.height / viewport.width);
        }
        if (cancelled) return;
        setAspects(shapes);
        setPdf(document);
      })
      .catch(() => {
        if (cancelled) return;
        setFailed(true);
        onFailed();
      });
    return () => {
      cancelled = true;
      void loaded?.destroy();
    };
  }, [bytes]);

  if (failed) return <p role="alert" class="error">{t('signer:viewer.failed')}</p>;
  if (!pdf) return <p class="muted" role="status">{t('signer:viewer.loading')}</p>;

  const pageCount = pdf.numPages;
  const zoomIndex = zoomSteps.indexOf(zoom);
  return (
    <section class="viewer" aria-label={t('signer:viewer.label')}>
      <div class="viewer-toolbar">
        <span role="status" aria-live="polite">{t('signer:viewer.position', { page: currentPage, count: pageCount })}</span>
        <span class="zoom">
          <button type="button" class="secondary" onClick={() => setZoom(zoomSteps[Math.max(0, zoomIndex - 1)]!)} disabled={zoomIndex === 0} aria-label={t('signer:viewer.zoomOut')}>
            −
          </button>
          <span aria-live="polite" class="zoom-level">{Math.round(zoom * 100)} %</span>
          <button
            type="button"
            class="secondary"
            onClick={() => setZoom(zoomSteps[Math.min(zoomSteps.length - 1, zoomIndex + 1)]!)}
            disabled={zoomIndex === zoomSteps.length - 1}
            aria-label={t('signer:viewer.zoomIn')}
          >
            +
          </button>
          {zoom !== 1 && (
            <button type="button" class="secondary" onClick={() => setZoom(1)}>
              {t('signer:viewer.fitWidth')}
            </button>
          )}
        </span>
      </div>
      <div class="pages" tabIndex={0} aria-label={t('signer:viewer.scrollHint')}>
        <div class="pages-inner" style={{ width: `${zoom * 100}%` }}>
          {aspects.map((aspect, index) => (
            <PdfPage
              key={index + 1}
              pdf={pdf}
              number={index + 1}
              aspect={aspect}
              zoom={zoom}
              t={t}
              pageCount={pageCount}
              onVisible={setCurrentPage}
              onShown={(number) => {
                if (!displayedOnce.current) {
                  displayedOnce.current = true;
                  onDisplayed(number, pageCount);
                }
                if (number === pageCount) onLastPageReached(pageCount);
              }}
            />
          ))}
        </div>
      </div>
    </section>
  );
}

interface PdfPageProps {
  pdf: PDFDocumentProxy;
  number: number;
  pageCount: number;
  aspect: number;
  zoom: number;
  t: Translate;
  onVisible(page: number): void;
  /** The page has been drawn and is at least half on screen (said once per page). */
  onShown(page: number): void;
}

function PdfPage({ pdf, number, pageCount, aspect, zoom, t, onVisible, onShown }: PdfPageProps) {
  const holder = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [near, setNear] = useState(number <= 2);
  const [drawn, setDrawn] = useState(false);
  const [onScreen, setOnScreen] = useState(false);
  const shown = useRef(false);

  useEffect(() => {
    const element = holder.current!;
    const nearby = new IntersectionObserver(([entry]) => entry?.isIntersecting && setNear(true), { rootMargin: '800px 0px' });
    const visible = new IntersectionObserver(
      ([entry]) => {
        const isOnScreen = (entry?.intersectionRatio ?? 0) >= 0.5 || (entry?.isIntersecting === true && (entry.intersectionRect.height ?? 0) >= window.innerHeight * 0.5);
        setOnScreen(isOnScreen);
        if (isOnScreen) onVisible(number);
      },
      { threshold: [0, 0.25, 0.5, 0.75, 1] },
    );
    nearby.observe(element);
    visible.observe(element);
    return () => {
      nearby.disconnect();
      visible.disconnect();
    };
  }, [number]);

  useEffect(() => {
    if (!near) return;
    let task: RenderTask | undefined;
    let cancelled = false;
    void (async () => {
      const page = await pdf.getPage(number);
      if (cancelled || !canvas.current || !holder.current) return;
      const cssWidth = holder.current.clientWidth;
      const base = page.getViewport({ scale: 1 });
      const pixelRatio = Math.min(window.devicePixelRatio || 1, 3);
      const viewport = page.getViewport({ scale: (cssWidth / base.width) * pixelRatio });
      const target = canvas.current;
      target.width = Math.floor(viewport.width);
      target.height = Math.floor(viewport.height);
      task = page.render({ canvas: target, viewport });
      await task.promise;
      if (!cancelled) setDrawn(true);
    })().catch(() => undefined); // a cancelled render (zoom changed) is not an error
    return () => {
      cancelled = true;
      task?.cancel();
    };
  }, [near, zoom, pdf, number]);

  useEffect(() => {
    if (drawn && onScreen && !shown.current) {
      shown.current = true;
      onShown(number);
    }
  }, [drawn, onScreen, number]);

  return (
    <div ref={holder} class="page-holder" style={{ aspectRatio: `1 / ${aspect}` }}>
      <canvas ref={canvas} role="img" aria-label={t('signer:viewer.pageImage', { page: number, count: pageCount })} data-drawn={drawn ? 'true' : 'false'} />
    </div>
  );
}
