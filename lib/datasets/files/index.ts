export { detectContentType, isTextType, isZipName } from "./content-type";
export { FILE_CHUNK_BYTES, fileLimits, importFileDataset, type ImportFilesInput } from "./import-files";
export { badFile, filePathId, isJunkPath } from "./paths";
export { asFileRecord, fileChunks, readBatchRecordFile, readFileBytes } from "./read-file";
export type { FileLimits, FileRecord, IncomingFile } from "./types";
export { zipFiles } from "./zip";
export { openDatasetFile } from "./download";
