//! Reads a Create Deployment request: the multipart fields `entrypoint`, `code` (the file)
//! and `activate`, in any order. The file is streamed straight to the place the domain
//! named, and counted on the way: server memory stays flat whatever the upload's size, and an
//! oversized file is refused as soon as it passes the limit.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use functiond_domain::deployments::{StagedFile, UploadInput, UploadTarget};
use functiond_types::ErrorCode;
use tokio::io::AsyncWriteExt;

use crate::error::ApiError;
use crate::params::Params;

/// Reads the whole request into an [`UploadInput`], the file going to `target.path`.
pub async fn read(request: Request, target: &UploadTarget) -> Result<UploadInput, ApiError> {
    let mut input = UploadInput {
        content_range: header_text(&request, "content-range"),
        upload_id: header_text(&request, "x-appwrite-id"),
        ..UploadInput::default()
    };
    let multipart = header_text(&request, header::CONTENT_TYPE.as_str()).is_some_and(|value| {
        value
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    });
    if !multipart {
        // No file can come this way; the domain answers `storage_file_empty`.
        let params = Params::from_request(request, &()).await?;
        input.entrypoint = params.string("entrypoint")?;
        input.activate = params.loose_boolean("activate")?;
        return Ok(input);
    }

    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|rejection| ApiError::argument(rejection.body_text()))?;
    let malformed = |error: axum::extract::multipart::MultipartError| {
        ApiError::argument(format!("Malformed multipart body: {error}"))
    };
    let mut text_fields = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) if name == "code" && input.file.is_none() => {
                let mut file = tokio::fs::File::create(&target.path)
                    .await
                    .map_err(io_failed)?;
                let mut size: u64 = 0;
                while let Some(bytes) = field.chunk().await.map_err(malformed)? {
                    size += bytes.len() as u64;
                    if size > target.max_bytes {
                        drop(file);
                        let _ = tokio::fs::remove_file(&target.path).await;
                        return Err(ApiError::Upload {
                            code: ErrorCode::StorageInvalidFileSize,
                            message: format!(
                                "The file is larger than the limit of {} bytes.",
                                target.max_bytes
                            ),
                        });
                    }
                    file.write_all(&bytes).await.map_err(io_failed)?;
                }
                file.flush().await.map_err(io_failed)?;
                input.file = Some(StagedFile {
                    path: target.path.clone(),
                    file_name,
                    size,
                });
            }
            // Other files are not parameters of this endpoint.
            Some(_) => {}
            None => {
                let text = field.text().await.map_err(malformed)?;
                text_fields.push((name, text));
            }
        }
    }
    let mut form = Vec::new();
    for (name, text) in &text_fields {
        form.push(format!(
            "{}={}",
            form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>(),
            form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
        ));
    }
    let params = Params::from_form(form.join("&").as_bytes());
    input.entrypoint = params.string("entrypoint")?;
    input.activate = params.loose_boolean("activate")?;
    Ok(input)
}

fn header_text(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn io_failed(error: std::io::Error) -> ApiError {
    tracing::error!(%error, "could not write an upload to disk");
    ApiError::Upload {
        code: ErrorCode::ServerError,
        message: ErrorCode::ServerError.default_message().to_owned(),
    }
}
